/** What a download button says when a download could not even start: one mapping for every button. */
export interface ButtonProblem {
  state: 'needs-key' | 'unsupported' | 'failed';
  label: string;
  title: string;
}

/** The button's words for an error answer to `download.start`. */
export function buttonProblem(err: unknown): ButtonProblem {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'needs_key') return { state: 'needs-key', label: 'Add a key', title: message };
  if (code === 'not_a_file') return { state: 'unsupported', label: 'Stream, not a file', title: message };
  if (code === 'unsupported') return { state: 'unsupported', label: 'Can’t save this yet', title: message };
  if (code === 'protected') return { state: 'unsupported', label: 'Protected (DRM)', title: message };
  return { state: 'failed', label: 'Failed', title: message };
}
