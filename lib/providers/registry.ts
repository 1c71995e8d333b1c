/**
 * Runs providers in the user's order: the first that can resolve and download the URL wins; each
 * one that could not is recorded with its reason, so the user is told which provider worked and
 * why the others did not.
 */
import { toVidmuxError, VidmuxError } from '../errors';
import type { DownloadChoice, DownloadContext, DownloadResult, MediaInfo, Provider, ProviderId } from './types';

/** One provider's turn: null error means it is the one that worked. */
export interface ProviderAttempt {
  provider: ProviderId;
  error: { code: string; message: string } | null;
}

/** Every provider failed; the message names each one and why. */
export class AllProvidersFailedError extends VidmuxError {
  constructor(readonly attempts: ProviderAttempt[]) {
    const reasons = attempts.map((a) => `${a.provider}: ${a.error?.message ?? 'unknown error'}`).join('; ');
    const last = attempts.at(-1)?.error?.code;
    super((last as VidmuxError['code']) ?? 'unsupported', attempts.length ? `No provider could do it. ${reasons}` : 'No provider is set up for this URL.');
  }
}

function fallible(err: unknown): boolean {
  // The user cancelling is not a reason to try the next provider.
  return toVidmuxError(err).code !== 'cancelled';
}

/** Resolves `url` with the first provider that can; throws {@link AllProvidersFailedError} otherwise. */
export async function resolveWithFallback(
  url: string,
  providers: Provider[],
  opts: { signal?: AbortSignal } = {},
): Promise<{ info: MediaInfo; provider: Provider; attempts: ProviderAttempt[] }> {
  const attempts: ProviderAttempt[] = [];
  for (const provider of providers) {
    if (!provider.supports(url)) {
      attempts.push({ provider: provider.id, error: { code: 'unsupported', message: `${provider.displayName} does not handle this site.` } });
      continue;
    }
    try {
      const info = await provider.resolve(url, opts);
      attempts.push({ provider: provider.id, error: null });
      return { info, provider, attempts };
    } catch (err) {
      if (!fallible(err)) throw err;
      attempts.push({ provider: provider.id, error: toVidmuxError(err).toJSON() });
    }
  }
  throw new AllProvidersFailedError(attempts);
}

/**
 * Resolves and downloads with the first provider that gets all the way; `choose` picks the format
 * (and subtitles) from each provider's own formats.
 */
export async function downloadWithFallback(
  url: string,
  providers: Provider[],
  choose: (info: MediaInfo) => DownloadChoice,
  ctx: DownloadContext,
  hooks: { onAttempt?: (provider: Provider) => void; onFailure?: (provider: Provider, error: { code: string; message: string }) => void } = {},
): Promise<{ result: DownloadResult; info: MediaInfo; provider: Provider; choice: DownloadChoice; attempts: ProviderAttempt[] }> {
  const attempts: ProviderAttempt[] = [];
  for (const provider of providers) {
    if (!provider.supports(url)) {
      attempts.push({ provider: provider.id, error: { code: 'unsupported', message: `${provider.displayName} does not handle this site.` } });
      continue;
    }
    hooks.onAttempt?.(provider);
    try {
      const info = await provider.resolve(url, ctx.signal ? { signal: ctx.signal } : {});
      const choice = choose(info);
      const result = await provider.download(info, choice, ctx);
      attempts.push({ provider: provider.id, error: null });
      return { result, info, provider, choice, attempts };
    } catch (err) {
      if (!fallible(err)) throw err;
      const error = toVidmuxError(err).toJSON();
      attempts.push({ provider: provider.id, error });
      hooks.onFailure?.(provider, error);
    }
  }
  throw new AllProvidersFailedError(attempts);
}
