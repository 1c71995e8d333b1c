import { useEffect, useState } from 'react';
import { browser } from 'wxt/browser';
import { formatBytes, formatDuration } from '@/lib/format';
import { FINISHED_STAGES, type Job } from '@/lib/jobs/job';
import type { Response } from '@/lib/messages';
import { notAFileReason, type MediaCandidate } from '@/lib/page-media';
import { sendToBackground } from '@/lib/platform/messaging';

type TabState = Response<'tab.state'>;

/** The tab the popup is about: `?tabId=` (used when the popup is opened as a page), else the active tab. */
async function currentTabId(): Promise<number | null> {
  const fromQuery = Number(new URLSearchParams(location.search).get('tabId'));
  if (Number.isInteger(fromQuery) && fromQuery > 0) return fromQuery;
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  return tab?.id ?? null;
}

/** The toolbar popup: the media found on the current tab and the state of its downloads. */
export function Popup() {
  const [tabId, setTabId] = useState<number | null>(null);
  const [state, setState] = useState<TabState | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void currentTabId().then(setTabId);
  }, []);

  useEffect(() => {
    if (tabId === null) return;
    let alive = true;
    const load = () =>
      sendToBackground('tab.state', { tabId })
        .then((s) => alive && (setState(s), setError(null)))
        .catch((e: unknown) => alive && setError(e instanceof Error ? e.message : String(e)));
    void load();
    const t = setInterval(load, 500);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [tabId]);

  const download = async (media: MediaCandidate) => {
    if (!state?.page || tabId === null) return;
    try {
      await sendToBackground('download.start', { page: state.page, media, tabId, choice: {} });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <main style={{ width: 380, padding: 14 }}>
      <h1>Vidmux</h1>
      {state?.page && <div className="muted ellipsis" title={state.page.title}>{state.page.title || state.page.url}</div>}
      {error && <p className="bad" role="alert">{error}</p>}
      <h2>On this page</h2>
      {!state?.media.length && <p className="muted" data-testid="no-media">No video found on this page.</p>}
      <ul style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label="Media on this page">
        {state?.media.map((m) => <MediaItem key={m.id} media={m} onDownload={() => void download(m)} />)}
      </ul>
      <h2>Downloads</h2>
      {!state?.jobs.length && <p className="muted">Nothing downloaded from this tab yet.</p>}
      <ul style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label="Downloads">
        {state?.jobs.map((j) => <JobItem key={j.id} job={j} />)}
      </ul>
    </main>
  );
}

function MediaItem({ media, onDownload }: { media: MediaCandidate; onDownload: () => void }) {
  const name = (() => {
    try {
      return decodeURIComponent(new URL(media.src).pathname.split('/').pop() || media.src);
    } catch {
      return media.src || '(no source)';
    }
  })();
  const facts = [media.width && media.height ? `${media.width}×${media.height}` : '', formatDuration(media.duration), media.mimeType ?? ''].filter(Boolean).join(' · ');
  const saveable = media.kind === 'file' || media.kind === 'manifest';
  const label = media.kind === 'file' ? name : media.kind === 'manifest' ? (/dash/i.test(media.mimeType ?? '') ? 'DASH stream (video + audio)' : 'HLS stream') : 'Stream';
  return (
    <li className="card" data-testid="media-item" data-kind={media.kind}>
      <div className="row">
        <div style={{ minWidth: 0 }}>
          <div className="ellipsis" title={media.src}>{label}</div>
          <div className="muted">{facts}</div>
        </div>
        {saveable ? (
          <button className="primary" onClick={onDownload} aria-label={`Download ${label}`}>Download</button>
        ) : null}
      </div>
      {!saveable && <div className="muted">{notAFileReason(media.kind)}</div>}
    </li>
  );
}

const PROVIDER_NAMES: Record<string, string> = { page: 'the page itself', vidpickr: 'VidPickr', renderio: 'RenderIO', tornado: 'Tornado' };

/** Which provider got (or is getting) the file, and why the ones before it did not. */
function ProviderNote({ job }: { job: Job }) {
  const failed = job.attempts.filter((a) => a.error && a.error.code !== 'unsupported');
  if (!job.attempts.length || (job.provider === 'page' && !failed.length)) return null;
  const done = job.progress.stage === 'done';
  return (
    <div className="muted" data-testid="provider-note">
      {done ? 'Via' : 'Trying'} {PROVIDER_NAMES[job.provider] ?? job.provider}
      {failed.map((a) => (
        <div key={a.provider} data-testid="fallback-reason">
          {PROVIDER_NAMES[a.provider] ?? a.provider} failed: {a.error!.message}
        </div>
      ))}
    </div>
  );
}

function JobItem({ job }: { job: Job }) {
  const p = job.progress.overall;
  const pct = p.bytesTotal ? Math.min(100, (100 * p.bytesDone) / p.bytesTotal) : null;
  const active = !FINISHED_STAGES.has(job.progress.stage);
  return (
    <li className="card" data-testid="job-item" data-stage={job.progress.stage}>
      <div className="row">
        <div className="ellipsis" title={job.filename}>{job.filename}</div>
        {active && (
          <button onClick={() => void sendToBackground('download.cancel', { jobId: job.id })} aria-label={`Cancel ${job.filename}`}>
            Cancel
          </button>
        )}
      </div>
      {active && (
        <>
          <div className="bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct ?? undefined} aria-label="Progress">
            <div style={{ width: `${pct ?? 5}%` }} />
          </div>
          <div className="muted">
            {formatBytes(p.bytesDone)} of {formatBytes(p.bytesTotal)}
            {p.speedBps > 0 && ` · ${formatBytes(p.speedBps)}/s`}
            {p.etaSeconds !== null && p.etaSeconds > 0 && ` · ${formatDuration(p.etaSeconds)} left`}
          </div>
        </>
      )}
      <ProviderNote job={job} />
      {job.progress.stage === 'done' && !job.remoteLocation && <div className="ok break">Saved · {formatBytes(p.bytesDone)} · {job.file}</div>}
      {job.progress.stage === 'done' && job.remoteLocation && <div className="ok break">Stored in your bucket: {job.remoteLocation}</div>}
      {job.extraFiles.length > 0 && <div className="muted break">Also saved: {job.extraFiles.map((f) => f.split(/[\\/]/).pop()).join(', ')}</div>}
      {job.progress.stage === 'failed' && <div className="bad" role="alert">Failed: {job.error?.message}</div>}
      {job.progress.stage === 'cancelled' && <div className="muted">Cancelled</div>}
    </li>
  );
}
