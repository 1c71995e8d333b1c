import { useEffect, useMemo, useState } from 'react';
import { formatBytes, formatDuration } from '@/lib/format';
import { progressFraction, type Progress } from '@/lib/progress';
import { chooseFormat, planFormat, qualityOf } from '@/lib/jobs/choose-format';
import { showsInTab, type Job } from '@/lib/schemas/job';
import { FINISHED_STAGES, type JobChoice } from '@/lib/schemas/progress';
import { isReelable } from '@/lib/schemas/reel';
import type { Response } from '@/lib/messages';
import { notAFileReason } from '@/lib/page-media';
import type { Format, MediaCandidate, MediaInfo } from '@/lib/schemas/media';
import { sendToBackground, serveMessages } from '@/lib/platform/messaging';
import { loadSettings } from '@/lib/platform/storage';
import { currentTabId, openExtensionPage } from '@/lib/platform/tabs';
import type { UserChoice } from '@/lib/schemas/request';
import type { Settings } from '@/lib/schemas/settings';
import { SiteAccess } from './SiteAccess';

type TabState = Response<'tab.state'>;
const PROVIDER_NAMES: Record<string, string> = { page: 'the page itself', vidpickr: 'VidPickr', renderio: 'RenderIO', tornado: 'Tornado', vidio: 'VIDIO' };
const STAGES: Record<string, string> = { queued: 'Queued', resolving: 'Provider is preparing the file', downloading: 'Downloading', recording: 'Recording the live stream: Stop saves what was recorded', muxing: 'Joining video and audio', saving: 'Saving to disk' };
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** A job that changed, put where it belongs in the tab's state (newest first). */
function withJob(state: TabState, job: Job, tabId: number): TabState {
  const upsert = (list: Job[]) => [job, ...list.filter((j) => j.id !== job.id)].sort((a, b) => b.createdAt - a.createdAt);
  const shown = showsInTab(job, tabId);
  const jobs = shown ? upsert(state.jobs) : state.jobs.filter((j) => j.id !== job.id);
  const history = FINISHED_STAGES.has(job.progress.stage) && !shown ? upsert(state.history).slice(0, 20) : state.history.filter((j) => j.id !== job.id);
  return { ...state, jobs, history };
}

/** The toolbar popup: a format picker for the current tab, its downloads, and the history. */
export function Popup() {
  const [tabId, setTabId] = useState<number | null>(null);
  const [state, setState] = useState<TabState | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void currentTabId(location.search).then(setTabId);
  }, []);

  useEffect(() => {
    if (tabId === null) return;
    let alive = true;
    const load = () =>
      sendToBackground('tab.state', { tabId })
        .then((s) => alive && (setState(s), setError(null)))
        .catch((e: unknown) => alive && setError(errorText(e)));
    void load();
    // The background pushes every change: a job's progress, new media on the tab, a cleared history.
    const stop = serveMessages(
      {
        'job.update': ({ job }) => {
          if (alive) setState((s) => (s ? withJob(s, job, tabId) : s));
          return {};
        },
        'tab.changed': ({ tabId: changed }) => {
          if (changed === null || changed === tabId) void load();
          return {};
        },
      },
      { answerUnknown: false },
    );
    return () => {
      alive = false;
      stop();
    };
  }, [tabId]);

  const start = async (request: Parameters<typeof sendToBackground<'download.start'>>[1]) => {
    try {
      await sendToBackground('download.start', request);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <main style={{ width: 400, maxWidth: '100vw', boxSizing: 'border-box', padding: 14 }}>
      <h1>Vidmux</h1>
      {state?.page && <div className="muted ellipsis" title={state.page.title}>{state.page.title || state.page.url}</div>}
      {error && <p className="bad" role="alert">{error}</p>}
      <SiteAccess tabId={tabId} />
      {state?.page && state.providerPage && tabId !== null ? (
        <FormatPicker page={state.page} onDownload={(choice) => void start({ page: state.page!, media: null, tabId, choice })} />
      ) : (
        <>
          <h2>On this page</h2>
          {!state?.media.length && <p className="muted" data-testid="no-media">No video found on this page.</p>}
          <ul style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label="Media on this page">
            {state?.media.map((m) => (
              <MediaItem
                key={m.id}
                media={m}
                page={state.page}
                onDownload={(choice) => state.page && tabId !== null && void start({ page: state.page, media: m, tabId, choice: choice ?? {} })}
              />
            ))}
          </ul>
        </>
      )}
      <h2>Downloads</h2>
      {!state?.jobs.length && <p className="muted">Nothing downloaded from this tab yet.</p>}
      <ul style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label="Downloads">
        {state?.jobs.map((j) => <JobItem key={j.id} job={j} onError={setError} />)}
      </ul>
      <History jobs={(state?.history ?? []).filter((j) => j.tabId !== tabId)} onError={setError} />
    </main>
  );
}

const GROUPS: Array<{ kind: Format['kind']; title: string }> = [
  { kind: 'video+audio', title: 'Video' },
  { kind: 'video', title: 'Video only (no sound)' },
  { kind: 'audio', title: 'Audio' },
];

/** The providers' formats for this page, grouped, with the preset's choice preselected. */
function FormatPicker({ page, media = null, onDownload }: { page: { title: string; url: string }; media?: MediaCandidate | null; onDownload: (choice: UserChoice) => void }) {
  const [info, setInfo] = useState<MediaInfo | null>(null);
  const [attempts, setAttempts] = useState<Array<{ provider: string; error: { message: string } | null }>>([]);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [subs, setSubs] = useState<string[]>([]);
  const [settings, setSettings] = useState<Settings | null>(null);

  useEffect(() => {
    let alive = true;
    void Promise.all([sendToBackground('formats.resolve', { url: page.url, media }), loadSettings()])
      .then(([r, s]) => {
        if (!alive) return;
        setInfo(r.info);
        setAttempts(r.attempts);
        setSettings(s);
        setSubs(s.subtitleLanguages);
        try {
          setSelected(chooseFormat(r.info, { quality: s.quality, audioFormat: s.audioFormat, codecPreference: s.codecPreference, container: s.container, audioCodec: s.audioCodec }).id);
        } catch {
          setSelected(r.info.formats[0]?.id ?? null);
        }
      })
      .catch((e: unknown) => alive && setError(errorText(e)));
    return () => {
      alive = false;
    };
  }, [page.url, media]);

  const chosen = useMemo(() => info?.formats.find((f) => f.id === selected) ?? null, [info, selected]);
  if (error) return <p className="bad" role="alert" data-testid="picker-error">{error}</p>;
  if (!info || !settings) return <p className="muted" aria-busy="true">Asking the providers what this video offers…</p>;

  const languages = [...new Set(info.subtitles.map((s) => s.language).filter((l): l is string => !!l))];
  return (
    <section aria-label="Formats" data-testid="format-picker">
      <div className="row" style={{ alignItems: 'flex-start', marginTop: 8 }}>
        {info.thumbnail && (
          <img src={info.thumbnail} alt="" width={96} height={54} style={{ objectFit: 'cover', borderRadius: 4 }} onError={(e) => (e.currentTarget.style.display = 'none')} />
        )}
        <div style={{ flex: 1, minWidth: 0 }}>
          {/* A stream's own name is often just "video": the page's title says more. */}
          <div className="ellipsis" title={info.title}><strong>{info.title === 'video' ? page.title : info.title}</strong></div>
          <div className="muted">
            {formatDuration(info.durationSeconds)} · from {PROVIDER_NAMES[info.provider] ?? info.provider}
          </div>
          {attempts.filter((a) => a.error).map((a) => (
            <div key={a.provider} className="muted" data-testid="fallback-reason">{PROVIDER_NAMES[a.provider] ?? a.provider} failed: {a.error!.message}</div>
          ))}
        </div>
      </div>
      {GROUPS.map((g) => {
        // Tallest first, then by bitrate: providers list them in any order.
        const formats = info.formats.filter((f) => f.kind === g.kind).sort((a, b) => (b.height ?? 0) - (a.height ?? 0) || (b.bitrateKbps ?? 0) - (a.bitrateKbps ?? 0));
        if (!formats.length) return null;
        return (
          <fieldset key={g.kind} style={{ border: 0, padding: 0, margin: '10px 0 0' }}>
            <legend className="muted" style={{ fontSize: 12, textTransform: 'uppercase', letterSpacing: '.06em' }}>{g.title}</legend>
            {formats.map((f) => (
              <label key={f.id} className="row" style={{ justifyContent: 'flex-start', gap: 8, padding: '3px 0' }} data-testid="format-option">
                <input type="radio" name="format" value={f.id} checked={selected === f.id} disabled={planFormat(info, f, settings).unsaveable !== null} onChange={() => setSelected(f.id)} />
                {/* The chooser's own plan: which sound goes with it and the container it is saved in. */}
                <span style={{ flex: 1 }}>
                  {f.label}
                  <br />
                  <span className="muted" data-testid="format-plan">{planFormat(info, f, settings).note}</span>
                </span>
                <span className="muted">{f.approxBytes ? `~${formatBytes(f.approxBytes)}` : ''}</span>
              </label>
            ))}
          </fieldset>
        );
      })}
      {languages.length > 0 && (
        <fieldset style={{ border: 0, padding: 0, margin: '10px 0 0' }}>
          <legend className="muted" style={{ fontSize: 12, textTransform: 'uppercase', letterSpacing: '.06em' }}>Subtitles</legend>
          {languages.map((l) => (
            <label key={l} style={{ marginRight: 12 }}>
              <input type="checkbox" checked={subs.includes(l)} onChange={(e) => setSubs(e.target.checked ? [...subs, l] : subs.filter((x) => x !== l))} /> {l}
            </label>
          ))}
        </fieldset>
      )}
      <div className="row" style={{ marginTop: 10 }}>
        <span className="muted" data-testid="chosen-plan">{chosen ? `${chosen.label}: ${planFormat(info, chosen, settings).note}` : 'Pick a format'}</span>
        <button
          className="primary"
          disabled={!chosen}
          onClick={() =>
            chosen &&
            onDownload({
              formatId: chosen.id,
              formatProvider: info.provider,
              quality: qualityOf(chosen),
              ...(chosen.kind === 'audio' ? { audioFormat: chosen.container === 'mp3' ? 'mp3' : 'm4a' } : {}),
              subtitleLanguages: subs,
            })
          }
        >
          Download
        </button>
      </div>
    </section>
  );
}

function MediaItem({ media, page, onDownload }: { media: MediaCandidate; page: { title: string; url: string } | null; onDownload: (choice?: UserChoice) => void }) {
  // A stream has renditions (resolution, bitrate, codecs, audio languages) to choose from.
  const [choosing, setChoosing] = useState(false);
  const name = (() => {
    try {
      return decodeURIComponent(new URL(media.src).pathname.split('/').pop() || media.src);
    } catch {
      return media.src || '(no source)';
    }
  })();
  const facts = [media.width && media.height ? `${media.width}×${media.height}` : '', formatDuration(media.duration), media.mimeType ?? ''].filter(Boolean).join(' · ');
  const saveable = media.kind === 'file' || media.kind === 'manifest';
  const label =
    media.kind === 'file' ? name : media.kind === 'manifest' ? `${media.live ? 'Live ' : ''}${/dash/i.test(media.mimeType ?? '') ? 'DASH stream' : 'HLS stream'}` : 'Stream';
  return (
    <li className="card" data-testid="media-item" data-kind={media.kind}>
      <div className="row">
        <div style={{ minWidth: 0 }}>
          <div className="ellipsis" title={media.src}>{label}</div>
          <div className="muted">{facts}</div>
        </div>
        {media.kind === 'manifest' && page && (
          <button onClick={() => setChoosing(!choosing)} aria-expanded={choosing} aria-label={`Choose a rendition of ${label}`}>Renditions</button>
        )}
        {saveable ? (
          <button className="primary" onClick={() => onDownload()} aria-label={`${media.live ? 'Record' : 'Download'} ${label}`}>{media.live ? 'Record' : 'Download'}</button>
        ) : null}
      </div>
      {!saveable && <div className="muted">{notAFileReason(media.kind)}</div>}
      {choosing && page && <FormatPicker page={page} media={media} onDownload={(choice) => onDownload(choice)} />}
    </li>
  );
}

/** Which provider got (or is getting) the file, and why the ones before it did not. */
function ProviderNote({ job }: { job: Job }) {
  const failed = job.attempts.filter((a) => a.error && a.error.code !== 'not_handled');
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

function ProgressBar({ label, progress }: { label: string; progress: Progress }) {
  const fraction = progressFraction(progress);
  const pct = fraction === null ? null : 100 * fraction;
  return (
    <div className="bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct === null ? undefined : Math.round(pct)} aria-label={label}>
      <div style={{ width: `${pct ?? 5}%` }} />
    </div>
  );
}

/** The results a job waits on (VIDIO's proposed reels): each with its picture and length, and a button to go on with it. */
function Choices({ job, choices, act }: { job: Job; choices: JobChoice[]; act: (what: Promise<unknown>) => void }) {
  const [picked, setPicked] = useState<number | null>(null);
  return (
    <ul aria-label="Proposed reels" style={{ listStyle: 'none', padding: 0, display: 'flex', flexWrap: 'wrap', gap: 8 }}>
      {choices.map((c) => {
        const label = `Reel ${c.index + 1}${c.durationSeconds === null ? '' : ` (${formatDuration(c.durationSeconds)})`}`;
        return (
          <li key={c.index} data-testid="job-choice" style={{ width: 120 }}>
            {c.thumbnail ? <img src={c.thumbnail} alt={label} style={{ width: 120, height: 68, objectFit: 'cover', borderRadius: 4 }} /> : <div className="muted" style={{ height: 68 }}>No picture</div>}
            <div className="muted">{label}{c.index === 0 ? ' · VIDIO’s best' : ''}</div>
            <button
              disabled={picked !== null}
              aria-label={`Render ${label}`}
              onClick={() => {
                setPicked(c.index);
                act(sendToBackground('download.choose', { jobId: job.id, index: c.index }).catch((e: unknown) => {
                  setPicked(null);
                  throw e;
                }));
              }}
            >
              {picked === c.index ? 'Chosen' : 'Render this'}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** One queue entry: progress (in the service's words when it gives them), actions, the outcome. Also shown on the reel page. */
export function JobItem({ job, onError }: { job: Job; onError: (e: string) => void }) {
  const p = job.progress.overall;
  const active = !FINISHED_STAGES.has(job.progress.stage);
  const tracks = Object.entries(job.progress.tracks);
  const act = (what: Promise<unknown>) => void what.catch((e: unknown) => onError(errorText(e)));
  return (
    <li className="card" data-testid="job-item" data-stage={job.progress.stage}>
      <div className="row">
        <div className="ellipsis" title={job.filename}>{job.filename}</div>
        {job.progress.stage === 'recording' && (
          <button onClick={() => act(sendToBackground('download.finish', { jobId: job.id }))} aria-label={`Stop recording ${job.filename} and save it`}>Stop</button>
        )}
        {active && (
          <button onClick={() => act(sendToBackground('download.cancel', { jobId: job.id }))} aria-label={`Cancel ${job.filename}`}>Cancel</button>
        )}
        {job.progress.stage === 'interrupted' && job.request && (
          <button className="primary" onClick={() => act(sendToBackground('download.resume', { jobId: job.id }))} aria-label={`Resume ${job.filename}`}>Resume</button>
        )}
        {job.progress.stage === 'interrupted' && (
          <button onClick={() => act(sendToBackground('download.discard', { jobId: job.id }))} aria-label={`Discard ${job.filename}`}>Discard</button>
        )}
        {(job.progress.stage === 'failed' || job.progress.stage === 'cancelled') && job.request && (
          <button onClick={() => act(sendToBackground('download.retry', { jobId: job.id }))} aria-label={`Retry ${job.filename}`}>Retry</button>
        )}
        {job.progress.stage === 'done' && job.downloadId !== null && (
          <button onClick={() => act(sendToBackground('download.show', { jobId: job.id }))} aria-label={`Show ${job.filename} in folder`}>Show</button>
        )}
        {job.progress.stage === 'done' && isReelable(job) && (
          <button onClick={() => act(openExtensionPage(`reel.html?job=${encodeURIComponent(job.id)}&from=${encodeURIComponent(job.file ?? job.filename)}`))} aria-label={`Make a highlight reel of ${job.filename}`}>
            Reel
          </button>
        )}
      </div>
      <ProviderNote job={job} />
      {active && (
        <>
          <div className="muted" data-testid="job-stage-words">{job.progress.words ?? STAGES[job.progress.stage] ?? job.progress.stage}</div>
          {job.progress.choices && <Choices job={job} choices={job.progress.choices} act={act} />}
          {job.progress.choices ? null : tracks.length > 1 ? (
            tracks.map(([name, t]) => (
              <div key={name} className="row" style={{ gap: 6 }}>
                <span className="muted" style={{ width: 44 }}>{name}</span>
                <div style={{ flex: 1 }}><ProgressBar label={`${name} progress`} progress={t} /></div>
              </div>
            ))
          ) : (
            <ProgressBar label="Progress" progress={p} />
          )}
          <div className="muted" hidden={!!job.progress.choices}>
            {p.bytesTotal === null && p.segments ? `${p.segments.done} of ${p.segments.total} segments · ${formatBytes(p.bytesDone)}` : `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`}
            {p.speedBps > 0 && ` · ${formatBytes(p.speedBps)}/s`}
            {p.etaSeconds !== null && p.etaSeconds > 0 && ` · ${formatDuration(p.etaSeconds)} left`}
          </div>
        </>
      )}
      {job.progress.stage === 'done' && !job.remoteLocation && <div className="ok break">Saved · {formatBytes(p.bytesDone)} · {job.file}</div>}
      {job.progress.stage === 'done' && job.remoteLocation && <div className="ok break">Stored in your bucket: {job.remoteLocation}</div>}
      {job.extraFiles.length > 0 && <div className="muted break">Also saved: {job.extraFiles.map((f) => f.split(/[\\/]/).pop()).join(', ')}</div>}
      {job.progress.stage === 'failed' && <div className="bad" role="alert">Failed: {job.error?.message}</div>}
      {/* A page on the internet was refused a local address: the user may trust its site, once. */}
      {job.progress.stage === 'failed' && job.error?.privateNetworkSite && job.request && (
        <button style={{ marginTop: 6 }} onClick={() => act(sendToBackground('privateNetwork.allow', { jobId: job.id }))}>
          Allow {job.error.privateNetworkSite} to use local addresses and retry
        </button>
      )}
      {job.progress.stage === 'cancelled' && <div className="muted">Cancelled</div>}
      {job.progress.stage === 'interrupted' && <div className="muted" data-testid="job-interrupted">{job.error?.message ?? 'Interrupted.'}</div>}
    </li>
  );
}

/** Finished downloads from other tabs, newest first; clearable. */
function History({ jobs, onError }: { jobs: Job[]; onError: (e: string) => void }) {
  if (!jobs.length) return null;
  return (
    <section aria-label="History">
      <div className="row">
        <h2>Recent downloads</h2>
        <button onClick={() => void sendToBackground('history.clear', {}).catch((e: unknown) => onError(errorText(e)))}>Clear history</button>
      </div>
      <ul style={{ listStyle: 'none', padding: 0, margin: 0 }}>
        {jobs.map((j) => (
          <li key={j.id} className="muted ellipsis" data-testid="history-item" title={j.file ?? j.filename}>
            {j.progress.stage === 'done' ? '✓' : '✗'} {j.filename}
          </li>
        ))}
      </ul>
    </section>
  );
}
