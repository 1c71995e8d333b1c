/**
 * Stable error codes. Surfaces map these to what they show; tests assert on them.
 * Add codes here rather than inventing strings at throw sites.
 */
export type ErrorCode =
  | 'bad_input'
  | 'not_a_file'
  | 'unsupported'
  /** DRM or SAMPLE-AES: only a licensed player can decrypt it; it is never saved. */
  | 'protected'
  /** A provider that does not handle this site at all (it was skipped, not tried). */
  | 'not_handled'
  | 'network'
  | 'timeout'
  | 'cancelled'
  | 'http_error'
  | 'rate_limited'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'expired'
  | 'truncated'
  /** The file changed on the server during a download (its ETag or Last-Modified did): the parts would not fit together. */
  | 'source_changed'
  | 'bad_response'
  | 'corrupt_media'
  | 'download_failed'
  | 'needs_key'
  | 'internal';

/**
 * The one error type the engine throws. `message` is written for a person; it never contains an
 * API key (see `maskSecrets`).
 */
export class VidmuxError extends Error {
  override readonly name = 'VidmuxError';
  readonly code: ErrorCode;
  readonly provider: string | undefined;
  readonly status: number | undefined;
  /**
   * A public page's site whose request for a local address was refused (lib/net/address.ts): the
   * user may allow it, and the popup offers to.
   */
  readonly privateNetworkSite: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { provider?: string; status?: number; cause?: unknown; privateNetworkSite?: string } = {},
  ) {
    super(clip(maskSecrets(message)), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.provider = opts.provider;
    this.status = opts.status;
    this.privateNetworkSite = opts.privateNetworkSite;
  }

  /** A plain object safe to send between contexts or print as JSON. */
  toJSON(): { code: ErrorCode; message: string; provider?: string; status?: number; privateNetworkSite?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.provider === undefined ? {} : { provider: this.provider }),
      ...(this.status === undefined ? {} : { status: this.status }),
      ...(this.privateNetworkSite === undefined ? {} : { privateNetworkSite: this.privateNetworkSite }),
    };
  }
}

/**
 * An error already in a provider's own words (its error table said it): never reworded again, by
 * the provider's API client or by a derived HTTP client's `mapError`.
 */
export class ProviderError extends VidmuxError {}

/** Longest message a person is shown (and the protocol carries): a server's essay is cut, not refused. */
export const MAX_MESSAGE_CHARS = 2000;

function clip(message: string): string {
  return message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : message;
}

/** Turns anything thrown into a VidmuxError, keeping codes of ones that already are. */
export function toVidmuxError(err: unknown, fallback: ErrorCode = 'internal'): VidmuxError {
  if (err instanceof VidmuxError) return err;
  if (err instanceof Error && err.name === 'AbortError') return new VidmuxError('cancelled', 'Cancelled.', { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new VidmuxError(fallback, message, { cause: err });
}

/**
 * Masks anything that looks like an API key: a known prefix or a long token becomes
 * `prefix...last4`. Used on every message that may be shown or logged.
 */
export function maskSecrets(text: string): string {
  return text.replace(/\b([A-Za-z]{2,8}_(?:live_|test_)?)?([A-Za-z0-9]{24,})\b/g, (_m, prefix: string | undefined, body: string) =>
    maskKey((prefix ?? '') + body),
  );
}

/** `vpk_live_0123456789abcdef` -> `vpk_live_...cdef`. Keys shorter than 8 characters become `...`. */
export function maskKey(key: string): string {
  const m = /^([A-Za-z]{2,8}_(?:live_|test_)?)/.exec(key);
  const prefix = m?.[1] ?? '';
  const rest = key.slice(prefix.length);
  if (rest.length < 8) return prefix + '...';
  return `${prefix}...${rest.slice(-4)}`;
}
