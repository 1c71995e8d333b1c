/**
 * `npm run bench:transmux [-- --gb 1] [--runs 3] [--no-check]`: MPEG-TS -> MP4 by our engine
 * against `ffmpeg -i in.ts -c copy out.mp4` (the baseline), and, for the choice of a TS demuxer,
 * mux.js's Transmuxer and mediabunny's MPEG-TS input on the same stream.
 *
 * The input: 720p30 H.264 (12 Mb/s, GOP 2 s) + AAC 48 kHz stereo, encoded once as 4 s HLS segments
 * and joined into one TS file of about `--gb` GB, as a downloader joins them (cached in
 * .cache/bench/transmux-<gb>gb/ with the segment offsets; the first run encodes it, ~4 min per GB).
 *
 * Contenders, each a child process under `/usr/bin/time` (its own peak RSS), run from an esbuild
 * bundle of this file under plain `node`:
 * - ffmpeg -c copy: the baseline;
 * - ours: `remux({ input })`, Node file source and sink;
 * - mux.js: `mp4.Transmuxer` fed one HLS segment at a time (push + flush, its intended use; fed the
 *   whole file at once it holds all of it), writing its init segment and fragments to a file;
 * - mediabunny: `Input` with the `MPEG_TS` format, every packet of both tracks read (no output:
 *   a lower bound for a mediabunny-based transmux).
 * Noise control as bench/mux.ts: page cache warmed, one untimed warm-up per contender, then RUNS
 * interleaved rounds with `sync` between runs; medians and min-max are printed.
 *
 * Exactness (once, untimed; `--no-check` skips it): every output's packets against ffprobe's
 * reading of the TS (counts per track; presentation times after removing each one's own start
 * offset), on the big input and on the test suite's tricky inputs (PTS wrap, mid-GOP start, joined
 * segments, 44.1 kHz, HEVC, AC-3, MP3): ours must equal it (to ffprobe's microseconds, audio frames
 * to the 90 kHz tick the TS rounds them to); the others are reported as they are.
 *
 * `benchTransmux(opts)` does all of it, prints the table and returns the numbers (bench/streams.ts
 * calls it). Flags: `--gb N` (input size), `--runs N`, `--no-check`, `--only ours,ffmpeg`.
 * Child mode: `node transmux.js --child ours|muxjs|mediabunny IN SEGMENTS.json OUT [REPORT.json]`.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const benchRoot = join(root, '.cache/bench');
const runFile = promisify(execFile);

/** Options of {@link benchTransmux}. */
export interface TransmuxBenchOptions {
  /** Input size in GB (default 1). */
  gb?: number;
  /** Timed rounds (default 3). */
  runs?: number;
  /** Check every contender's output against ffprobe's reading of the TS (default true). */
  check?: boolean;
  /** Contenders to run (default all): 'ffmpeg', 'ours', 'muxjs', 'mediabunny'. */
  only?: ReadonlyArray<ContenderId>;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Where the result table goes at the end (default: stdout; `null`: nowhere). */
  report?: ((table: string) => void) | null;
}

export type ContenderId = 'ffmpeg' | 'ours' | 'muxjs' | 'mediabunny';

/** One timed run. */
export interface Sample {
  seconds: number;
  rssMb: number;
}

/** What a contender's output holds compared with ffprobe's reading of the input. */
export interface Exactness {
  /** Packets per track: [contender's, input's]. */
  videoPackets: [number, number];
  audioPackets: [number, number];
  /** Largest presentation-time difference over the packets both have, ms (after each side's own start). */
  worstPtsErrorMs: number;
  /** Every packet there, at its exact time (within ffprobe's 1 µs). */
  exact: boolean;
  note: string;
}

/** One contender's numbers. */
export interface ContenderResult {
  id: ContenderId;
  name: string;
  runs: Sample[];
  /** Medians. */
  seconds: number;
  rssMb: number;
  /** Median wall time over ffmpeg's (per round). */
  vsFfmpeg: number | null;
  exactness?: Exactness;
}

/** Exactness of one contender on one of the test suite's tricky inputs. */
export interface EdgeExactness {
  input: string;
  id: ContenderId;
  exactness: Exactness;
}

/** What {@link benchTransmux} measured. */
export interface TransmuxBenchResult {
  inputPath: string;
  inputBytes: number;
  contenders: ContenderResult[];
  /** The same exactness check on the test suite's tricky inputs (PTS wrap, mid-GOP start, HEVC, AC-3, MP3...). */
  edges: EdgeExactness[];
  /** Ours within 2.0x ffmpeg's wall time and 150 MB peak RSS (null when ours or ffmpeg didn't run). */
  targets: { time: boolean; rss: boolean } | null;
}

const NAMES: Record<ContenderId, string> = {
  ffmpeg: 'ffmpeg -c copy',
  ours: 'vidmux (ours)',
  muxjs: 'mux.js',
  mediabunny: 'mediabunny (read)',
};

/** Video bitrate of the input: 12 Mb/s + 128 kb/s audio + TS overhead is ~1 GB per 11 minutes. */
const VIDEO_BITRATE = 12_000_000;
const SEGMENT_SECONDS = 4;

// ---------------------------------------------------------------------------------------------
// Children (timed): each contender on its own.

async function childOurs(input: string, out: string): Promise<void> {
  const { remux } = await import('../lib/media/index');
  const { NodeFileSink, NodeFileSource } = await import('../lib/node/files');
  await remux({ input: await NodeFileSource.open(input), sink: new NodeFileSink(out) });
}

interface MuxjsSegment {
  initSegment: Uint8Array;
  data: Uint8Array;
}

/** The part of mux.js's API the bench uses (mux.js ships no types). */
interface MuxjsTransmuxer {
  on(event: 'data', listener: (segment: MuxjsSegment) => void): void;
  push(bytes: Uint8Array): void;
  flush(): void;
}
type MuxjsModule = { mp4: { Transmuxer: new (options: { keepOriginalTimestamps: boolean }) => MuxjsTransmuxer } };

async function childMuxjs(input: string, segmentsJson: string, out: string): Promise<void> {
  // @ts-expect-error mux.js has no type declarations (MuxjsModule above is what we use of it).
  const loaded = (await import('mux.js')) as MuxjsModule & { default?: MuxjsModule };
  const { Transmuxer } = (loaded.mp4 ? loaded : loaded.default!).mp4;
  const offsets = JSON.parse(readFileSync(segmentsJson, 'utf8')) as number[];
  const size = statSync(input).size;
  const fd = openSync(input, 'r');
  const outFd = openSync(out, 'w');
  let wroteInit = false;
  const t = new Transmuxer({ keepOriginalTimestamps: true });
  t.on('data', (s) => {
    if (!wroteInit) {
      writeSync(outFd, s.initSegment);
      wroteInit = true;
    }
    writeSync(outFd, s.data);
  });
  for (let i = 0; i < offsets.length; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1] ?? size;
    const buf = new Uint8Array(end - start);
    readSync(fd, buf, 0, buf.length, start);
    t.push(buf);
    t.flush();
  }
  closeSync(fd);
  closeSync(outFd);
}

async function childMediabunny(input: string, report?: string): Promise<void> {
  const mb = await import('mediabunny');
  const inp = new mb.Input({ source: new mb.FilePathSource(input), formats: [mb.MPEG_TS] });
  const tracks = [await inp.getPrimaryVideoTrack(), await inp.getPrimaryAudioTrack()];
  const times: Record<'video' | 'audio', number[]> = { video: [], audio: [] };
  const its: Array<{ kind: 'video' | 'audio'; it: AsyncGenerator<{ timestamp: number }, void> }> = [];
  tracks.forEach((t, i) => {
    if (t) its.push({ kind: i === 0 ? 'video' : 'audio', it: new mb.EncodedPacketSink(t).packets() });
  });
  // Both tracks, interleaved by time as a transmux would read them.
  const heads = await Promise.all(its.map((x) => x.it.next()));
  for (;;) {
    let k = -1;
    for (let i = 0; i < its.length; i++) {
      const h = heads[i]!;
      if (h.done) continue;
      const best = k >= 0 ? heads[k]! : null;
      if (!best || best.done || h.value.timestamp < best.value.timestamp) k = i;
    }
    if (k < 0) break;
    const head = heads[k]!;
    if (report && !head.done) times[its[k]!.kind].push(head.value.timestamp);
    heads[k] = await its[k]!.it.next();
  }
  if (report) writeFileSync(report, JSON.stringify(times));
}

// ---------------------------------------------------------------------------------------------
// The input.

async function ffmpegBin(): Promise<{ ffmpeg: string; ffprobe: string }> {
  const f = await import('../test/fixtures/ffmpeg');
  return { ffmpeg: f.ffmpegPath, ffprobe: f.ffprobePath };
}

/** Takes the SDT (PID 0x11) out of a TS file: the bundled ffprobe crashes on its strings (see test/fixtures/ts-media.ts). */
function withoutSdt(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  let n = 0;
  for (let i = 0; i + 188 <= b.length; i += 188) {
    if ((((b[i + 1]! & 0x1f) << 8) | b[i + 2]!) === 0x11) continue;
    out.set(b.subarray(i, i + 188), n);
    n += 188;
  }
  return out.subarray(0, n);
}

/** Makes (or reuses) the joined HLS stream of about `gb` GB and its segment offsets. */
async function prepare(ffmpeg: string, gb: number, log: (s: string) => void): Promise<{ ts: string; segments: string }> {
  const dir = join(benchRoot, `transmux-${gb}gb`);
  const ts = join(dir, 'stream.ts');
  const segments = join(dir, 'segments.json');
  if (existsSync(ts) && existsSync(segments)) return { ts, segments };
  mkdirSync(dir, { recursive: true });
  const seconds = Math.ceil((gb * 1e9 * 8) / (VIDEO_BITRATE * 1.03 + 128_000));
  log(`preparing a ${gb} GB TS (${seconds} s of 720p, first run only; ~${Math.ceil(seconds / 150)} min)...`);
  const segDir = join(dir, 'segments');
  rmSync(segDir, { recursive: true, force: true });
  mkdirSync(segDir);
  await runFile(ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', String(VIDEO_BITRATE), '-maxrate', String(VIDEO_BITRATE),
    '-bufsize', String(VIDEO_BITRATE * 2), '-g', '60', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-ac', '2',
    '-f', 'hls', '-hls_time', String(SEGMENT_SECONDS), '-hls_list_size', '0', '-hls_segment_filename', join(segDir, 's%05d.ts'), join(segDir, 'list.m3u8'),
  ], { maxBuffer: 1 << 26 });
  const files = readdirSync(segDir).filter((f) => f.endsWith('.ts')).sort();
  const tmp = `${ts}.tmp`;
  const fd = openSync(tmp, 'w');
  const offsets: number[] = [];
  let at = 0;
  for (const f of files) {
    const seg = withoutSdt(readFileSync(join(segDir, f)));
    offsets.push(at);
    writeSync(fd, seg);
    at += seg.length;
    rmSync(join(segDir, f));
  }
  closeSync(fd);
  rmSync(segDir, { recursive: true, force: true });
  writeFileSync(segments, JSON.stringify(offsets));
  renameSync(tmp, ts);
  return { ts, segments };
}

// ---------------------------------------------------------------------------------------------
// Timing.

/** Bundles this file so the timed JS runs start like a built app (plain node, no transpiler). */
async function bundle(log: (s: string) => void): Promise<string[]> {
  const outdir = join(benchRoot, 'transmux-bench');
  try {
    const esbuild = await import('esbuild');
    rmSync(outdir, { recursive: true, force: true });
    await esbuild.build({
      entryPoints: { transmux: fileURLToPath(import.meta.url) },
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outdir,
      logLevel: 'error',
      external: ['@ffmpeg-installer/*', '@ffprobe-installer/*', 'esbuild'],
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    return [process.execPath, join(outdir, 'transmux.js')];
  } catch (err) {
    log(`esbuild unavailable (${(err as Error).message}); timing through tsx instead`);
    return [join(root, 'node_modules/.bin/tsx'), fileURLToPath(import.meta.url)];
  }
}

function warmPageCache(path: string): Promise<void> {
  return new Promise((done, fail) => {
    createReadStream(path, { highWaterMark: 8 * 1024 * 1024 }).on('data', () => undefined).on('end', done).on('error', fail);
  });
}

/** Runs `cmd` under GNU time: wall seconds (measured here) and peak RSS (GNU time's). */
function timed(cmd: string[]): Promise<Sample> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%e %M', ...cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      const m = /^([\d.]+) (\d+)$/.exec(err.trim().split('\n').pop() ?? '');
      if (code !== 0 || !m) return fail(new Error(`${cmd.join(' ')} failed (${code}): ${err.trim()}`));
      done({ seconds, rssMb: Number(m[2]) / 1024 });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// ---------------------------------------------------------------------------------------------
// Exactness.

interface Track {
  pts: number[];
}

interface Tracks {
  video: Track;
  audio: Track;
  /** Video packets before the first keyframe (they can't be decoded; ffmpeg's -c copy drops them). */
  leadingVideo: number;
}

/** Presentation times per track as ffprobe reads `file` (seconds, file order). */
async function ffprobeTimes(ffprobe: string, file: string): Promise<Tracks> {
  const { stdout } = await runFile(ffprobe, ['-v', 'error', '-show_entries', 'packet=stream_index,pts_time,flags:stream=index,codec_type', '-of', 'json', file], { maxBuffer: 1 << 30 });
  const j = JSON.parse(stdout) as { streams: Array<{ index: number; codec_type: string }>; packets: Array<{ stream_index: number; pts_time?: string; flags?: string }> };
  const idx = (t: string) => j.streams.find((s) => s.codec_type === t)?.index ?? -1;
  const of = (t: string) => j.packets.filter((p) => p.stream_index === idx(t) && p.pts_time !== undefined);
  const video = of('video');
  const leading = video.findIndex((p) => p.flags?.startsWith('K'));
  return { video: { pts: video.map((p) => Number(p.pts_time)) }, audio: { pts: of('audio').map((p) => Number(p.pts_time)) }, leadingVideo: Math.max(0, leading) };
}

/**
 * Compares presentation times: both sides sorted (decode order differs from presentation order),
 * each relative to its own overall start, so that a shifted track shows as an error. Video the
 * input has before its first keyframe may be left out (it can't be decoded).
 */
function compare(got: Omit<Tracks, 'leadingVideo'>, ref: Tracks): Exactness {
  let worst = 0;
  const notes: string[] = [];
  const start = (t: Omit<Tracks, 'leadingVideo'>) => Math.min(...t.video.pts, ...t.audio.pts);
  const [gotStart, refStart] = [start(got), start(ref)];
  for (const kind of ['video', 'audio'] as const) {
    const a = [...got[kind].pts].sort((x, y) => x - y).map((t) => t - gotStart);
    const all = ref[kind].pts;
    const droppable = kind === 'video' ? ref.leadingVideo : 0;
    const b = all.slice(a.length === all.length - droppable ? droppable : 0).sort((x, y) => x - y).map((t) => t - refStart);
    if (a.length === 0 && b.length > 0) {
      notes.push(`no ${kind}`);
      continue;
    }
    if (a.length !== b.length) notes.push(`${kind}: ${a.length} packets of ${b.length}`);
    else if (droppable && a.length === all.length) notes.push(`kept ${droppable} undecodable video packets before the first keyframe`);
    // Match by nearest time (a missing or added packet shifts the index, not the times).
    let j = 0;
    for (const t of a) {
      while (j + 1 < b.length && Math.abs(b[j + 1]! - t) <= Math.abs(b[j]! - t)) j++;
      if (b.length) worst = Math.max(worst, Math.abs(b[j]! - t));
    }
  }
  const worstMs = worst * 1000;
  // ffprobe prints microseconds; 44.1 kHz audio frames sit on 90 kHz ticks (11 µs) in the TS.
  if (worstMs > 0.025) notes.push(`times off by up to ${worstMs.toFixed(3)} ms`);
  return {
    videoPackets: [got.video.pts.length, ref.video.pts.length],
    audioPackets: [got.audio.pts.length, ref.audio.pts.length],
    worstPtsErrorMs: worstMs,
    exact: notes.length === 0 || (notes.length === 1 && notes[0]!.startsWith('kept')),
    note: notes.join('; ') || 'every packet, exact times',
  };
}

/** Runs contender `id` on `ts` once (untimed) and compares what it read or wrote with ffprobe's reading. */
async function exactnessOf(id: ContenderId, ts: string, segments: string, js: string[], ffmpeg: string, ffprobe: string, outDir: string): Promise<Exactness> {
  const ref = await ffprobeTimes(ffprobe, ts);
  const out = join(outDir, `check-${id}.mp4`);
  const report = join(outDir, `check-${id}.json`);
  try {
    const argv = id === 'ffmpeg' ? [ffmpeg, '-v', 'error', '-y', '-i', ts, '-c', 'copy', out] : [...js, '--child', id, ts, segments, out, report];
    try {
      await runFile(argv[0]!, argv.slice(1), { maxBuffer: 1 << 26 });
    } catch (err) {
      const msg = ((err as { stderr?: string }).stderr || (err as Error).message).trim().split('\n').filter(Boolean).pop() ?? '';
      return { videoPackets: [0, ref.video.pts.length], audioPackets: [0, ref.audio.pts.length], worstPtsErrorMs: NaN, exact: false, note: `failed: ${msg.slice(0, 120)}` };
    }
    if (id === 'mediabunny') {
      const t = JSON.parse(readFileSync(report, 'utf8')) as { video: number[]; audio: number[] };
      return compare({ video: { pts: t.video }, audio: { pts: t.audio } }, ref);
    }
    return compare(await ffprobeTimes(ffprobe, out), ref);
  } finally {
    rmSync(out, { force: true });
    rmSync(report, { force: true });
  }
}

/** The test suite's tricky inputs (test/fixtures/ts-media.ts), for the exactness check. */
const EDGE_INPUTS = ['ptsWrap', 'midGop', 'hlsJoined', 'h264Aac44', 'hevcAac', 'h264Ac3', 'h264Mp3'] as const;

// ---------------------------------------------------------------------------------------------

/** Runs the benchmark; see the module comment. */
export async function benchTransmux(opts: TransmuxBenchOptions = {}): Promise<TransmuxBenchResult> {
  const gb = opts.gb ?? 1;
  const runs = opts.runs ?? 3;
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const ids = opts.only ?? (['ffmpeg', 'ours', 'muxjs', 'mediabunny'] as const);
  const { ffmpeg, ffprobe } = await ffmpegBin();
  const input = await prepare(ffmpeg, gb, log);
  const inputBytes = statSync(input.ts).size;
  const js = await bundle(log);
  const outDir = join(benchRoot, 'transmux-out');
  mkdirSync(outDir, { recursive: true });
  const out = (id: ContenderId) => join(outDir, `out-${id}.${id === 'muxjs' ? 'fmp4.mp4' : 'mp4'}`);
  const cmd = (id: ContenderId, report?: string): string[] =>
    id === 'ffmpeg'
      ? [ffmpeg, '-v', 'error', '-y', '-i', input.ts, '-c', 'copy', out(id)]
      : [...js, '--child', id, input.ts, input.segments, out(id), ...(report ? [report] : [])];

  const exactness = new Map<ContenderId, Exactness>();
  const edges: EdgeExactness[] = [];
  if (opts.check ?? true) {
    log('checking exactness (untimed) against ffprobe\'s reading of each TS...');
    for (const id of ids) {
      exactness.set(id, await exactnessOf(id, input.ts, input.segments, js, ffmpeg, ffprobe, outDir));
      log(`  ${NAMES[id]}: ${exactness.get(id)!.note}`);
    }
    const { tsInputs } = await import('../test/fixtures/ts-media');
    const whole = join(outDir, 'one-segment.json');
    writeFileSync(whole, '[0]');
    for (const name of EDGE_INPUTS) {
      const ts = await tsInputs[name]();
      for (const id of ids) {
        const e = await exactnessOf(id, ts, whole, js, ffmpeg, ffprobe, outDir);
        edges.push({ input: name, id, exactness: e });
        log(`  ${name}, ${NAMES[id]}: ${e.note}`);
      }
    }
  }

  const runOnce = async (id: ContenderId): Promise<Sample> => {
    spawnSync('sync');
    try {
      return await timed(cmd(id));
    } finally {
      rmSync(out(id), { force: true });
    }
  };
  log(`input: ${(inputBytes / 1e9).toFixed(2)} GB (720p H.264 + AAC, ${SEGMENT_SECONDS} s HLS segments joined); warming up, then ${runs} runs each, interleaved`);
  await warmPageCache(input.ts);
  for (const id of ids) {
    const s = await runOnce(id);
    log(`  warm-up ${NAMES[id]}: ${s.seconds.toFixed(2)} s, ${s.rssMb.toFixed(0)} MB (not counted)`);
  }
  const samples = new Map<ContenderId, Sample[]>(ids.map((id) => [id, []]));
  for (let r = 0; r < runs; r++) {
    for (const id of ids) {
      const s = await runOnce(id);
      samples.get(id)!.push(s);
      log(`  run ${r + 1} ${NAMES[id]}: ${s.seconds.toFixed(2)} s, ${s.rssMb.toFixed(0)} MB`);
    }
  }
  const base = samples.get('ffmpeg');
  const contenders = ids.map((id): ContenderResult => {
    const r = samples.get(id)!;
    const ratios = base ? r.map((s, i) => s.seconds / base[i]!.seconds) : null;
    return {
      id,
      name: NAMES[id],
      runs: r,
      seconds: median(r.map((s) => s.seconds)),
      rssMb: median(r.map((s) => s.rssMb)),
      vsFfmpeg: ratios ? median(ratios) : null,
      ...(exactness.has(id) ? { exactness: exactness.get(id)! } : {}),
    };
  });
  const ours = contenders.find((c) => c.id === 'ours');
  const result: TransmuxBenchResult = {
    inputPath: input.ts,
    inputBytes,
    contenders,
    edges,
    targets: ours && ours.vsFfmpeg !== null ? { time: ours.vsFfmpeg <= 2.0, rss: ours.rssMb <= 150 } : null,
  };
  const report = opts.report === undefined ? (t: string) => process.stdout.write(t) : opts.report;
  report?.(formatTransmuxBench(result));
  return result;
}

/** The result as a table. */
export function formatTransmuxBench(r: TransmuxBenchResult): string {
  const range = (xs: number[], d: number) => `${Math.min(...xs).toFixed(d)}-${Math.max(...xs).toFixed(d)}`;
  const rows = r.contenders.map((c) =>
    `| ${c.name.padEnd(17)} | ${`${c.seconds.toFixed(2)} s`.padStart(9)} | ${(c.vsFfmpeg === null ? '-' : `${c.vsFfmpeg.toFixed(2)}x`).padStart(9)} | ${`${range(c.runs.map((s) => s.seconds), 2)} s`.padStart(13)} | ${`${c.rssMb.toFixed(0)} MB`.padStart(8)} | ${c.exactness?.note ?? '-'} |`,
  );
  return [
    `transmux benchmark: ${(r.inputBytes / 1e9).toFixed(2)} GB MPEG-TS -> MP4, medians of ${r.contenders[0]?.runs.length ?? 0} interleaved runs (after one warm-up run each)`,
    '| tool              | wall time | vs ffmpeg | wall min-max  | peak RSS | exactness (vs ffprobe of the TS) |',
    '|-------------------|-----------|-----------|---------------|----------|----------------------------------|',
    ...rows,
    ...(r.edges.length ? ['', 'exactness on tricky inputs (test/fixtures/ts-media.ts):', ...r.edges.map((e) => `  ${e.input.padEnd(10)} ${NAMES[e.id].padEnd(18)} ${e.exactness.note}`)] : []),
    r.targets
      ? `targets (ours): <= 2.0x ffmpeg wall time: ${r.targets.time ? 'met' : 'MISSED'}; <= 150 MB peak RSS: ${r.targets.rss ? 'met' : 'MISSED'}`
      : 'targets: not measured (ours or ffmpeg left out)',
    '',
  ].join('\n');
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const [, who, input, segments, out, report] = args;
    if (who === 'ours') await childOurs(input!, out!);
    else if (who === 'muxjs') await childMuxjs(input!, segments!, out!);
    else if (who === 'mediabunny') await childMediabunny(input!, report);
    else throw new Error(`unknown contender ${who}`);
    return;
  }
  const only = flag(args, '--only')?.split(',') as ContenderId[] | undefined;
  await benchTransmux({
    gb: Number(flag(args, '--gb') ?? process.env.BENCH_GB ?? 1),
    runs: Number(flag(args, '--runs') ?? process.env.BENCH_RUNS ?? 3),
    check: !args.includes('--no-check'),
    ...(only ? { only } : {}),
  });
}

const isMain = !!process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
