/**
 * `npm run bench:streams`: (a) downloading an HLS stream from a server that caps each connection,
 * Vidmux (its default concurrency) against `ffmpeg -i URL -c copy` (one connection) and against
 * the ideal (cap x connections); (b) TS-to-MP4 transmux of a large TS file against ffmpeg, with
 * peak RSS (bench/transmux.ts).
 *
 * (a) The stream: 10 minutes of 720p H.264 + AAC in about 300 MPEG-TS segments of 2 s, made once
 * with ffmpeg's HLS muxer (cached in .cache/bench). The server (test/fakes/stream-server.ts) runs
 * in a child process of its own, capping every connection at CAP bytes/s, so neither contender's
 * CPU work slows the other's server. Each contender runs as its own child process; wall time is
 * measured around it. RUNS rounds, interleaved (ffmpeg, Vidmux, ...), medians.
 *
 * Env: BENCH_RUNS (default 3), BENCH_MINUTES (default 10), BENCH_CAP_MBPS (default 2),
 * BENCH_SKIP_TRANSMUX=1 to run only (a).
 *
 * Child modes (used by the parent): `--serve DIR CAP` prints the server's origin;
 * `--vidmux URL OUT` downloads with the page provider (the CLI's road) and prints the bytes.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = join(root, '.cache/bench');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MINUTES = Number(process.env.BENCH_MINUTES ?? 10);
const CAP = Number(process.env.BENCH_CAP_MBPS ?? 2) * 1_000_000;
/** The page provider's default connections per track (lib/providers/page.ts). */
const CONNECTIONS = 4;

async function serve(dir: string, cap: number): Promise<void> {
  const { startStreamServer } = await import('../test/fakes/stream-server');
  const server = await startStreamServer({ bytesPerSecond: cap });
  server.mount('bench', { dir });
  process.stdout.write(`${server.url('bench', 'index.m3u8')}\n`);
}

async function vidmux(url: string, out: string): Promise<void> {
  const { PageProvider } = await import('../lib/providers/page');
  const { downloadContext } = await import('../lib/jobs/download-context');
  const { chooseFormat } = await import('../lib/jobs/choose-format');
  const { NodeFileSink } = await import('../lib/node/files');
  const page = new PageProvider();
  const t0 = performance.now();
  const info = await page.resolve(url);
  const target = { media: async () => new NodeFileSink(out), subtitle: async () => new NodeFileSink(`${out}.srt`) };
  const r = await page.download(info, { format: chooseFormat(info, { quality: 'best' }), subtitles: [] }, downloadContext({ target }));
  // Timed here, from the first request to the closed file: Node and tsx starting up are not the download.
  process.stdout.write(`${r.bytes} ${performance.now() - t0}\n`);
}

/** The benchmark stream, made once: `MINUTES` of 720p in 2 s MPEG-TS segments. */
async function stream(): Promise<string> {
  const dir = join(benchDir, `hls-720p-${MINUTES}min`);
  if (existsSync(join(dir, 'index.m3u8'))) return dir;
  const { ffmpeg } = await import('../test/fixtures/ffmpeg');
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  console.error(`making a ${MINUTES}-minute 720p HLS stream (once)…`);
  await ffmpeg([
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(MINUTES * 60), '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '5000k',
    '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k',
    '-f', 'hls', '-hls_time', '2', '-hls_list_size', '0', '-hls_playlist_type', 'vod', '-hls_segment_filename', join(tmp, 'seg%03d.ts'), join(tmp, 'index.m3u8'),
  ]);
  rmSync(dir, { recursive: true, force: true });
  const { renameSync } = await import('node:fs');
  renameSync(tmp, dir);
  return dir;
}

/** Runs a command; resolves with its stdout and wall time in ms. */
function timed(cmd: string, args: string[]): Promise<{ ms: number; stdout: string }> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done({ ms: performance.now() - t0, stdout }) : fail(new Error(`${cmd} exited ${code}`))));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function benchNetwork(): Promise<Record<string, number>> {
  const dir = await stream();
  const bytes = readdirSync(dir).filter((f) => f.endsWith('.ts')).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
  const segments = readdirSync(dir).filter((f) => f.endsWith('.ts')).length;
  const server = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', dir, String(CAP)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((done) => server.stdout.once('data', (d: Buffer) => done(d.toString().trim())));
  const { ffmpegPath } = await import('../test/fixtures/ffmpeg');
  const out = join(benchDir, 'streams-out.mp4');
  const times: Record<'ffmpeg' | 'vidmux', number[]> = { ffmpeg: [], vidmux: [] };
  try {
    for (let i = 0; i < RUNS; i++) {
      rmSync(out, { force: true });
      // One connection, as the baseline is meant: this ffmpeg's HLS reader would otherwise open a
      // second one to fetch the next segment ahead (`-http_multiple`, on by default for HTTP/1.1).
      times.ffmpeg.push((await timed(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-y', '-http_multiple', '0', '-i', url, '-c', 'copy', out])).ms);
      rmSync(out, { force: true });
      const run = await timed(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--vidmux', url, out]);
      times.vidmux.push(Number(run.stdout.trim().split(' ')[1]));
      rmSync(out, { force: true });
      console.error(`round ${i + 1}/${RUNS}: ffmpeg ${(times.ffmpeg.at(-1)! / 1000).toFixed(1)} s, Vidmux ${(times.vidmux.at(-1)! / 1000).toFixed(1)} s`);
    }
  } finally {
    server.kill();
  }
  const ideal = (bytes / (CAP * CONNECTIONS)) * 1000;
  const v = median(times.vidmux);
  const f = median(times.ffmpeg);
  console.log(`\n(a) HLS download: ${MINUTES} min 720p, ${segments} segments, ${(bytes / 1e6).toFixed(1)} MB, each connection capped at ${(CAP / 1e6).toFixed(1)} MB/s`);
  console.log(`  ideal (cap x ${CONNECTIONS} connections)   ${(ideal / 1000).toFixed(1)} s`);
  console.log(`  Vidmux (default concurrency)     ${(v / 1000).toFixed(1)} s   ${(bytes / v / 1000).toFixed(2)} MB/s   ${(ideal / v).toFixed(2)} of the ideal   ${(f / v).toFixed(2)}x ffmpeg's speed`);
  console.log(`  ffmpeg -i URL -c copy (1 conn.)  ${(f / 1000).toFixed(1)} s   ${(bytes / f / 1000).toFixed(2)} MB/s`);
  console.log(`  runs (s): Vidmux ${times.vidmux.map((t) => (t / 1000).toFixed(1)).join(' ')}; ffmpeg ${times.ffmpeg.map((t) => (t / 1000).toFixed(1)).join(' ')}`);
  console.log(`  target: at least 0.85 of the ideal: ${ideal / v >= 0.85 ? 'met' : 'NOT met'}`);
  return { bytes, segments, idealMs: ideal, vidmuxMs: v, ffmpegMs: f, ofIdeal: ideal / v };
}

async function main(): Promise<void> {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === '--serve') return serve(a!, Number(b));
  if (mode === '--vidmux') return vidmux(a!, b!);
  mkdirSync(benchDir, { recursive: true });
  await benchNetwork();
  if (process.env.BENCH_SKIP_TRANSMUX !== '1') {
    console.log('\n(b) TS -> MP4 transmux (bench/transmux.ts)');
    const { benchTransmux } = await import('./transmux');
    await benchTransmux({});
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
