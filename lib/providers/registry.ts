/**
 * Runs providers in the user's order: the first that can resolve and download the URL wins; each
 * one that could not is recorded with its reason, so the user is told which provider worked and
 * why the others did not.
 */
import { toVidmuxError, VidmuxError, type ErrorCode } from '../errors';
import type { Attempt } from '../schemas/error';
import type { MediaCandidate } from '../schemas/media';
import type { DownloadContext, DownloadResult, MediaInfo, Provider, Selection } from './types';

/** One provider's turn: null error means it is the one that worked. */
export type ProviderAttempt = Attempt;

/** Every provider failed. The message is the one provider's own when only one really tried, else it names each one and why. */
export class AllProvidersFailedError extends VidmuxError {
  constructor(readonly attempts: ProviderAttempt[]) {
    const tried = attempts.filter((a) => a.error?.code !== 'not_handled');
    const only = tried.length === 1 && tried[0]!.error ? tried[0]!.error : null;
    const reasons = attempts.map((a) => `${a.provider}: ${a.error?.message ?? 'unknown error'}`).join('; ');
    // Nobody tried: the site is not one any provider handles.
    const code = (only?.code ?? tried.at(-1)?.error?.code ?? 'unsupported') as ErrorCode;
    // A site the user may allow local addresses for: allowing it may make the page provider work.
    const privateNetworkSite = attempts.find((a) => a.error?.privateNetworkSite)?.error?.privateNetworkSite;
    super(code, only ? only.message : attempts.length ? `No provider could do it. ${reasons}` : 'No provider is set up for this URL.', privateNetworkSite ? { privateNetworkSite } : {});
  }
}

function fallible(err: unknown): boolean {
  // The user cancelling is not a reason to try the next provider.
  return toVidmuxError(err).code !== 'cancelled';
}

function unsupported(provider: Provider): ProviderAttempt {
  return { provider: provider.id, error: { code: 'not_handled', message: `${provider.displayName} does not handle this site.` } };
}

/** How to resolve: the clicked video (for the page provider), a resolve made earlier (the picker's). */
export interface ResolveOptions {
  signal?: AbortSignal;
  media?: MediaCandidate | null;
  /** The page `url` was found on, when it is not that page (see JobSpec `pageUrl`). */
  pageUrl?: string | null;
  /** Used instead of resolving again when its provider's turn comes. */
  resolved?: MediaInfo | null;
}

async function resolveWith(provider: Provider, url: string, opts: ResolveOptions): Promise<MediaInfo> {
  if (opts.resolved && opts.resolved.provider === provider.id && opts.resolved.url === url) return opts.resolved;
  const info = await provider.resolve(url, { ...(opts.signal ? { signal: opts.signal } : {}), media: opts.media ?? null, ...(opts.pageUrl ? { pageUrl: opts.pageUrl } : {}) });
  // A page's title can be anything: cut to what every surface shows and the protocol carries.
  return info.title.length > MAX_TITLE_CHARS ? { ...info, title: info.title.slice(0, MAX_TITLE_CHARS) } : info;
}

const MAX_TITLE_CHARS = 2000;

/** Resolves `url` with the first provider that can; throws {@link AllProvidersFailedError} otherwise. */
export async function resolveWithFallback(
  url: string,
  providers: Provider[],
  opts: ResolveOptions = {},
): Promise<{ info: MediaInfo; provider: Provider; attempts: ProviderAttempt[] }> {
  const attempts: ProviderAttempt[] = [];
  for (const provider of providers) {
    if (!provider.supports(url)) {
      attempts.push(unsupported(provider));
      continue;
    }
    try {
      const info = await resolveWith(provider, url, opts);
      attempts.push({ provider: provider.id, error: null });
      return { info, provider, attempts };
    } catch (err) {
      if (!fallible(err)) throw err;
      attempts.push({ provider: provider.id, error: toVidmuxError(err).toJSON() });
    }
  }
  throw new AllProvidersFailedError(attempts);
}

/** Hooks of {@link downloadWithFallback}: who is tried (after which earlier ones failed). */
export interface FallbackHooks {
  onAttempt?: (provider: Provider, earlier: ProviderAttempt[]) => void;
}

/**
 * Resolves and downloads with the first provider that gets all the way; `choose` picks the format
 * (and subtitles) from each provider's own formats.
 */
export async function downloadWithFallback(
  url: string,
  providers: Provider[],
  choose: (info: MediaInfo) => Selection,
  ctx: DownloadContext,
  opts: Omit<ResolveOptions, 'signal'> & FallbackHooks = {},
): Promise<{ result: DownloadResult; info: MediaInfo; provider: Provider; selection: Selection; attempts: ProviderAttempt[] }> {
  const attempts: ProviderAttempt[] = [];
  for (const provider of providers) {
    if (!provider.supports(url)) {
      attempts.push(unsupported(provider));
      continue;
    }
    opts.onAttempt?.(provider, attempts.filter((a) => a.error?.code !== 'not_handled'));
    try {
      const info = await resolveWith(provider, url, { ...opts, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      const selection = choose(info);
      // The engine writes the container the chooser planned, whichever provider's tracks it joins.
      const mux = selection.mux;
      const result = await provider.download(info, selection, mux ? { ...ctx, mux: (tracks) => ctx.mux({ container: mux, ...tracks }) } : ctx);
      attempts.push({ provider: provider.id, error: null });
      return { result, info, provider, selection, attempts };
    } catch (err) {
      if (!fallible(err) || ctx.signal?.aborted) throw err;
      const { code, message, privateNetworkSite } = toVidmuxError(err).toJSON();
      attempts.push({ provider: provider.id, error: { code, message, ...(privateNetworkSite ? { privateNetworkSite } : {}) } });
    }
  }
  throw new AllProvidersFailedError(attempts);
}
