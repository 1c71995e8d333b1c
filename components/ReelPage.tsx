/**
 * The highlight-reel page: local videos (picker or drag and drop, reorderable), the reel options
 * VIDIO documents, then one queued job whose every stage shows here and in the popup. The videos
 * are copied into the engine's input store first (a File cannot cross contexts by message).
 * From a finished download (`?job=<id>&from=<saved file>`) the video is already chosen when the
 * engine kept the job's file for a reel (with a VIDIO key it keeps the last saved video for an
 * hour: lib/platform/opfs-inputs.ts); otherwise the page names the file to choose, since the
 * browser does not hand an extension back the files it saved.
 */
import { useEffect, useState } from 'react';
import type { Job } from '@/lib/schemas/job';
import { sendToBackground, serveMessages } from '@/lib/platform/messaging';
import { keptInput, removeInputs, storeInput } from '@/lib/platform/opfs-inputs';
import { ASPECT_RATIOS, keptInputId, MUSIC_CATEGORIES, VIDEO_CATEGORIES, type ReelOptionsInput } from '@/lib/schemas/reel';
import { JobItem } from './Popup';

const words = (s: string) => s.replace(/[-_]/g, ' ').replace(/\band\b/g, '&');
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const baseName = (path: string) => path.split(/[\\/]/).pop() ?? path;

/** A video of the reel: a file the user gave, or a finished download the engine kept for it. */
type ReelVideo = { kind: 'file'; file: File; name: string } | { kind: 'kept'; id: string; name: string; size: number };

export function ReelPage() {
  const params = new URLSearchParams(location.search);
  const from = params.get('from');
  const fromJob = params.get('job');
  const [files, setFiles] = useState<ReelVideo[]>([]);
  const [keptChecked, setKeptChecked] = useState(!fromJob);
  const [options, setOptions] = useState<ReelOptionsInput>({ category: 'others', lengthSeconds: 30, aspect: 'portrait', music: null, musicVolume: 100, originalVolume: 100, outputIndex: 0, chooseOutput: false });
  const [job, setJob] = useState<Job | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(
    () =>
      serveMessages(
        {
          'job.update': ({ job: changed }) => {
            setJob((current) => (current && current.id === changed.id ? changed : current));
            return {};
          },
        },
        { answerUnknown: false },
      ),
    [],
  );

  // The finished download, if the engine kept it for a reel: chosen already, nothing to pick.
  useEffect(() => {
    if (!fromJob) return;
    void keptInput(keptInputId(fromJob))
      .then((kept) => kept && setFiles((f) => [{ kind: 'kept', id: kept.id, size: kept.size, name: baseName(from ?? 'video.mp4') }, ...f]))
      .finally(() => setKeptChecked(true));
  }, [fromJob, from]);

  const add = (list: FileList | null) => list && setFiles((f) => [...f, ...Array.from(list, (file) => ({ kind: 'file' as const, file, name: file.name }))]);
  const move = (i: number, by: -1 | 1) =>
    setFiles((f) => {
      const next = [...f];
      const [it] = next.splice(i, 1);
      next.splice(i + by, 0, it!);
      return next;
    });
  const set = (patch: Partial<ReelOptionsInput>) => setOptions((o) => ({ ...o, ...patch }));

  const start = async () => {
    setBusy(true);
    setError(null);
    const inputs: Array<{ id: string; name: string; size: number }> = [];
    try {
      // No copying gigabytes for a start that cannot work.
      const { keys } = await sendToBackground('keys.list', {});
      if (!keys.find((k) => k.provider === 'vidio')?.masked) throw new Error('Add a VIDIO key on the options page to make highlight reels.');
      const copied: string[] = [];
      for (const f of files) {
        if (f.kind === 'kept') inputs.push({ id: f.id, name: f.name, size: f.size });
        else {
          const stored = await storeInput(f.file);
          copied.push(stored.id);
          inputs.push(stored);
        }
      }
      try {
        setJob((await sendToBackground('reel.start', { inputs, options })).job);
      } catch (e) {
        // Copies this page made go; the kept download stays for another try.
        await removeInputs(copied);
        throw e;
      }
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main style={{ maxWidth: 640, margin: '0 auto', padding: 24 }}>
      <h1>Highlight reel</h1>
      <p className="muted">VIDIO makes a short reel of your videos. They are uploaded to VIDIO with your VIDIO key (set on the options page).</p>
      {from && keptChecked && !files.some((f) => f.kind === 'kept') && (
        <p data-testid="reel-from">
          Choose the file you saved, <strong>{baseName(from)}</strong>: the browser does not let extensions read your downloads, and Vidmux keeps a copy of
          the last one only while a VIDIO key is set, for an hour.
        </p>
      )}
      <div
        data-testid="drop-zone"
        onDragOver={(e) => e.preventDefault()}
        onDrop={(e) => {
          e.preventDefault();
          add(e.dataTransfer.files);
        }}
        style={{ border: '2px dashed currentColor', borderRadius: 8, padding: 16, opacity: 0.85 }}
      >
        <label htmlFor="reel-files">Videos (drop them here, or choose):</label>{' '}
        <input id="reel-files" type="file" accept="video/*,.mp4,.webm,.mkv,.mov,.ts" multiple onChange={(e) => add(e.target.files)} />
      </div>
      <ol aria-label="Videos, in reel order" style={{ paddingLeft: 20 }}>
        {files.map((f, i) => (
          <li key={`${f.kind}-${f.name}-${i}`} className="row" data-testid="reel-file" data-kind={f.kind}>
            <span className="ellipsis">
              {f.name}
              {f.kind === 'kept' && <span className="muted"> (your download)</span>}
            </span>
            <span>
              <button aria-label={`Move ${f.name} up`} disabled={i === 0} onClick={() => move(i, -1)}>↑</button>{' '}
              <button aria-label={`Move ${f.name} down`} disabled={i === files.length - 1} onClick={() => move(i, 1)}>↓</button>{' '}
              <button aria-label={`Remove ${f.name}`} onClick={() => setFiles((l) => l.filter((_, j) => j !== i))}>✕</button>
            </span>
          </li>
        ))}
      </ol>

      <label htmlFor="reel-category">Category</label>{' '}
      <select id="reel-category" value={options.category} onChange={(e) => set({ category: e.target.value as ReelOptionsInput['category'] })}>
        {VIDEO_CATEGORIES.map((c) => <option key={c} value={c}>{words(c)}</option>)}
      </select>
      <p />
      <label htmlFor="reel-length">Length (seconds)</label>{' '}
      <input id="reel-length" type="number" min={1} max={3600} value={options.lengthSeconds} onChange={(e) => set({ lengthSeconds: Math.max(1, Math.round(Number(e.target.value) || 1)) })} style={{ width: 90 }} />
      <fieldset style={{ border: 0, padding: 0 }}>
        <legend>Shape</legend>
        {ASPECT_RATIOS.map((a) => (
          <label key={a} style={{ marginRight: 12 }}>
            <input type="radio" name="aspect" checked={options.aspect === a} onChange={() => set({ aspect: a })} /> {a}
          </label>
        ))}
      </fieldset>
      <label htmlFor="reel-music">Music</label>{' '}
      <select id="reel-music" value={options.music ?? ''} onChange={(e) => set({ music: (e.target.value || null) as ReelOptionsInput['music'] })}>
        <option value="">None</option>
        {MUSIC_CATEGORIES.map((m) => <option key={m} value={m}>{words(m)}</option>)}
      </select>
      <p />
      <label htmlFor="reel-music-volume">Music volume</label>{' '}
      <input id="reel-music-volume" type="range" min={0} max={100} value={options.musicVolume} onChange={(e) => set({ musicVolume: Number(e.target.value) })} />{' '}
      <label htmlFor="reel-original-volume">Original sound</label>{' '}
      <input id="reel-original-volume" type="range" min={0} max={100} value={options.originalVolume} onChange={(e) => set({ originalVolume: Number(e.target.value) })} />
      <p />
      <label>
        <input type="checkbox" checked={!!options.chooseOutput} onChange={(e) => set({ chooseOutput: e.target.checked })} /> Let me choose among the reels VIDIO
        proposes (with their pictures and lengths)
      </label>
      <p />
      <label htmlFor="reel-output">Otherwise, which proposed reel (0 is VIDIO's best)</label>{' '}
      <input id="reel-output" type="number" min={0} disabled={!!options.chooseOutput} value={options.outputIndex} onChange={(e) => set({ outputIndex: Math.max(0, Math.round(Number(e.target.value) || 0)) })} style={{ width: 70 }} />
      <p />
      <button className="primary" disabled={!files.length || busy} onClick={() => void start()}>
        Make the reel
      </button>
      {error && <p className="bad" role="alert">{error}</p>}
      {job && (
        <ul style={{ listStyle: 'none', padding: 0 }} aria-label="Reel">
          <JobItem job={job} onError={setError} />
        </ul>
      )}
    </main>
  );
}
