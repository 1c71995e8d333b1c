/** What a filename template may say: the tokens, the default, and the check (used by the settings schema). */

/** Tokens a filename template may use. */
export const FILENAME_TOKENS = ['title', 'id', 'height', 'provider', 'date', 'host', 'ext'] as const;
export type FilenameToken = (typeof FILENAME_TOKENS)[number];

export const DEFAULT_FILENAME_TEMPLATE = '{title}.{ext}';

/** Checks a template: relative, no "..", only known tokens. Returns a reason, or null if fine. */
export function templateProblem(template: string): string | null {
  if (!template.trim()) return 'The template is empty.';
  if (/^[\\/]|^[a-z]:/i.test(template)) return 'The template must be a relative path inside the downloads folder.';
  if (template.split(/[\\/]/).some((p) => p.trim() === '..')) return 'The template must not contain "..".';
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    if (!(FILENAME_TOKENS as readonly string[]).includes(m[1]!)) return `Unknown token {${m[1]}}. Known: ${FILENAME_TOKENS.map((t) => `{${t}}`).join(' ')}.`;
  }
  return null;
}
