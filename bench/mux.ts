/**
 * `npm run bench:mux [-- h264|webm]`: our engine vs mediabunny vs `ffmpeg -c copy`, into MP4, on
 * - `h264`: a 10-minute 1080p H.264 + AAC pair of at least 1 GB (MP4 inputs);
 * - `webm`: a 10-minute 720p VP9 + Opus pair of at least 500 MB (WebM inputs, as YouTube serves them);
 * both by default (made once, cached in .cache/bench).
 *
 * Each run is its own child process under `/usr/bin/time`, so peak RSS is that tool's alone; wall
 * time is measured around the child by this process (millisecond resolution). The JS contenders
 * run from an esbuild bundle of this file under plain `node` (no tsx transpiling in the timed
 * run), code-split so that each child loads only its own engine. One more row is the CLI as a
 * user times it: `node dist/cli/vidmux.mjs mux --video V --audio A --out O`, the package's `bin`
 * (built first when stale by scripts/build-cli.mjs), a whole process from start to exit; issue
 * 15's target for it: at most 1.3x `ffmpeg -c copy`'s wall time and 120 MB peak RSS.
 *
 * Noise control: the inputs are read once into the page cache and every contender gets one
 * untimed warm-up run; then RUNS rounds run the contenders interleaved (ffmpeg, ours, mediabunny,
 * ffmpeg, ...) so that load from anything else on the machine hits all of them alike. Outputs are
 * deleted right after each run (their dirty pages never reach the disk) and `sync` runs between
 * runs, so no run pays for an earlier one's writeback. Prints medians with ratios to ffmpeg, and
 * min-max per contender.
 *
 * Child mode (used by the parent): `node mux.js --child ours|mediabunny VIDEO AUDIO OUT`.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = join(root, '.cache/bench');
const runFile = promisify(execFile);
/** The package's `bin` (scripts/build-cli.mjs writes it). */
const cliBin = join(root, 'dist/cli/vidmux.mjs');
const CLI = 'vidmux CLI (bin)';
const CLI_TARGET = { ratio: 1.3, rssMb: 120 };

/** Muxes with our engine (lib/media) through the Node file source and sink. */
async function childOurs(video: string, audio: string, out: string): Promise<void> {
  const { remux } = await import('../lib/media/index');
  const { NodeFileSink, NodeFileSource } = await import('../lib/node/files');
  await remux({ video: await NodeFileSource.open(video), audio: await NodeFileSource.open(audio), sink: new NodeFileSink(out) });
}

/** Muxes with mediabunny, streaming: packet sinks -> packet sources -> MP4 to a file, fastStart off. */
async function childMediabunny(video: string, audio: string, out: string): Promise<void> {
  const mb = await import('mediabunny');
  const vIn = new mb.Input({ source: new mb.FilePathSource(video), formats: mb.ALL_FORMATS });
  const aIn = new mb.Input({ source: new mb.FilePathSource(audio), formats: mb.ALL_FORMATS });
  const vTrack = (await vIn.getPrimaryVideoTrack())!;
  const aTrack = (await aIn.getPrimaryAudioTrack())!;
  const output = new mb.Output({ format: new mb.Mp4OutputFormat({ fastStart: false }), target: new mb.FilePathTarget(out) });
  const vSource = new mb.EncodedVideoPacketSource((await vTrack.getCodec())!);
  const aSource = new mb.EncodedAudioPacketSource((await aTrack.getCodec())!);
  output.addVideoTrack(vSource);
  output.addAudioTrack(aSource);
  await output.start();
  const vConfig = (await vTrack.getDecoderConfig())!;
  const aConfig = (await aTrack.getDecoderConfig())!;
  const vIt = new mb.EncodedPacketSink(vTrack).packets();
  const aIt = new mb.EncodedPacketSink(aTrack).packets();
  let v = await vIt.next();
  let a = await aIt.next();
  let firstV = true;
  let firstA = true;
  // Interleave by timestamp, as the muxer wants.
  while (!v.done || !a.done) {
    if (!v.done && (a.done || v.value.timestamp <= a.value.timestamp)) {
      await vSource.add(v.value, firstV ? { decoderConfig: vConfig } : undefined);
      firstV = false;
      v = await vIt.next();
    } else if (!a.done) {
      await aSource.add(a.value, firstA ? { decoderConfig: aConfig } : undefined);
      firstA = false;
      a = await aIt.next();
    }
  }
  await output.finalize();
}

/** Issue 15's target for the CLI as a whole process, judged on medians (wall time and peak RSS). */
function cliVerdict(cli: Sample[], ffmpeg: Sample[]): string {
  const ratio = median(cli.map((s) => s.seconds)) / median(ffmpeg.map((s) => s.seconds));
  const rss = median(cli.map((s) => s.rssMb));
  const ok = ratio <= CLI_TARGET.ratio && rss <= CLI_TARGET.rssMb;
  return (
    `target, ${CLI} as a whole process: <= ${CLI_TARGET.ratio}x ffmpeg wall time (${ratio.toFixed(2)}x: ${ratio <= CLI_TARGET.ratio ? 'met' : 'NOT met'}), ` +
    `peak RSS <= ${CLI_TARGET.rssMb} MB (${rss.toFixed(0)} MB: ${rss <= CLI_TARGET.rssMb ? 'met' : 'NOT met'}): ${ok ? 'MET' : 'NOT MET'}`
  );
}

async function ffmpegBin(): Promise<string> {
  const { ffmpegPath } = await import('../test/fixtures/ffmpeg');
  return ffmpegPath;
}

/** Runs ffmpeg quietly. */
function ffRunner(ffmpeg: string) {
  return (args: string[]) => runFile(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 1 << 26 });
}

/** Makes `out` with `make(tmp)` unless it exists (a crash never leaves a half file named `out`). */
async function once(out: string, make: (tmp: string) => Promise<unknown>): Promise<void> {
  if (existsSync(out)) return;
  const tmp = out.replace(/(\.\w+)$/, '.tmp$1');
  await make(tmp);
  rmSync(out, { force: true });
  await runFile('mv', [tmp, out]);
}

/** The 10-minute VP9 + Opus WebM pair: a 20 s clip at ~7.5 Mb/s looped 30 times with -c copy. */
async function prepareWebm(ffmpeg: string): Promise<{ video: string; audio: string }> {
  mkdirSync(benchDir, { recursive: true });
  const ff = ffRunner(ffmpeg);
  const video = join(benchDir, 'bench-10min-720p-vp9.webm');
  const audio = join(benchDir, 'bench-10min-opus.webm');
  const clip = join(benchDir, 'clip-20s-720p-vp9.webm');
  const clipAudio = join(benchDir, 'clip-20s-opus.webm');
  process.stderr.write('preparing WebM inputs (first run only)...\n');
  // Noise over the test pattern keeps the realtime VP9 encoder at the asked bitrate.
  await once(clip, (t) =>
    ff(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30,noise=alls=40:allf=t', '-t', '20', '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8',
      '-row-mt', '1', '-b:v', '7.5M', '-minrate', '7M', '-maxrate', '8M', '-g', '60', '-pix_fmt', 'yuv420p', '-f', 'webm', t]),
  );
  await once(clipAudio, (t) => ff(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '20', '-ac', '2', '-c:a', 'libopus', '-b:a', '160k', '-f', 'webm', t]));
  await once(video, (t) => ff(['-stream_loop', '29', '-i', clip, '-c', 'copy', '-f', 'webm', t]));
  await once(audio, (t) => ff(['-stream_loop', '29', '-i', clipAudio, '-c', 'copy', '-f', 'webm', t]));
  return { video, audio };
}

/** Makes (or reuses) the 10-minute pair: a 20 s high-bitrate clip looped 30 times with -c copy. */
async function prepare(ffmpeg: string): Promise<{ video: string; audio: string }> {
  mkdirSync(benchDir, { recursive: true });
  const video = join(benchDir, 'bench-10min-1080p.mp4');
  const audio = join(benchDir, 'bench-10min.m4a');
  const ff = ffRunner(ffmpeg);
  const clip = join(benchDir, 'clip-20s-1080p.mp4');
  const clipAudio = join(benchDir, 'clip-20s.m4a');
  process.stderr.write('preparing inputs (first run only)...\n');
  // ~14.5 Mb/s so that 10 minutes is over 1 GB; ultrafast keeps the one-time encode short.
  await once(clip, (t) =>
    ff(['-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-t', '20', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '14.5M',
      '-maxrate', '15M', '-bufsize', '30M', '-g', '60', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', t]),
  );
  await once(clipAudio, (t) => ff(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '20', '-c:a', 'aac', '-b:a', '128k', t]));
  await once(video, (t) => ff(['-stream_loop', '29', '-i', clip, '-c', 'copy', '-movflags', '+faststart', t]));
  await once(audio, (t) => ff(['-stream_loop', '29', '-i', clipAudio, '-c', 'copy', '-movflags', '+faststart', t]));
  return { video, audio };
}

/**
 * Bundles this file so the timed JS runs start like any built app (plain node, no transpiler).
 * Code splitting puts each contender's dynamic import in its own chunk: a child loads only the
 * engine it runs.
 */
async function bundle(): Promise<string[]> {
  const outdir = join(benchDir, 'mux-bench');
  try {
    const esbuild = await import('esbuild');
    rmSync(outdir, { recursive: true, force: true });
    await esbuild.build({
      entryPoints: { mux: fileURLToPath(import.meta.url) },
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outdir,
      logLevel: 'error',
      // Keep the ffmpeg fixture (and its createRequire) out of the bundle's hot path.
      external: ['@ffmpeg-installer/*', '@ffprobe-installer/*', 'esbuild'],
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    return [process.execPath, join(outdir, 'mux.js')];
  } catch (err) {
    process.stderr.write(`esbuild unavailable (${(err as Error).message}); timing through tsx instead\n`);
    return [join(root, 'node_modules/.bin/tsx'), fileURLToPath(import.meta.url)];
  }
}

/** Reads `path` once, so every timed run finds it in the page cache. */
function warmPageCache(path: string): Promise<void> {
  return new Promise((done, fail) => {
    createReadStream(path, { highWaterMark: 8 * 1024 * 1024 }).on('data', () => undefined).on('end', done).on('error', fail);
  });
}

interface Sample {
  seconds: number;
  rssMb: number;
}

/** Runs `cmd` under GNU time; returns wall seconds (measured here) and peak RSS (MB, GNU time's). */
function timed(cmd: string[]): Promise<Sample> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%e %M', ...cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      const last = err.trim().split('\n').pop() ?? '';
      const m = /^([\d.]+) (\d+)$/.exec(last);
      if (code !== 0 || !m) return fail(new Error(`${cmd.join(' ')} failed (${code}): ${err.trim()}`));
      done({ seconds, rssMb: Number(m[2]) / 1024 });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const [flag, who, video, audio, out] = process.argv.slice(2);
  if (flag === '--child') {
    if (who === 'ours') await childOurs(video!, audio!, out!);
    else if (who === 'mediabunny') await childMediabunny(video!, audio!, out!);
    else throw new Error(`unknown contender ${who}`);
    return;
  }
  const wanted = flag ? [flag] : ['h264', 'webm'];
  if (wanted.some((c) => c !== 'h264' && c !== 'webm')) throw new Error(`unknown case ${flag}: h264 or webm`);
  const ffmpeg = await ffmpegBin();
  const js = await bundle();
  // The CLI row runs the bin as shipped: (re)built here when a source is newer, never in a timed run.
  const built = spawnSync(process.execPath, [join(root, 'scripts/build-cli.mjs'), '--if-stale'], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('scripts/build-cli.mjs failed');
  for (const c of wanted) {
    const inputs = c === 'webm' ? await prepareWebm(ffmpeg) : await prepare(ffmpeg);
    await benchCase(c === 'webm' ? '10 min 720p VP9 + Opus, WebM -> MP4' : '10 min 1080p H.264 + AAC, MP4 -> MP4', ffmpeg, js, inputs);
  }
}

/** Times the three contenders on one pair of inputs and prints the table. */
async function benchCase(what: string, ffmpeg: string, js: string[], inputs: { video: string; audio: string }): Promise<void> {
  const inputBytes = statSync(inputs.video).size + statSync(inputs.audio).size;
  const outFile = (name: string) => join(benchDir, `out-${name}.mp4`);
  const contenders: Array<{ name: string; out: string; cmd: string[] }> = [
    { name: 'ffmpeg -c copy', out: outFile('ffmpeg'), cmd: [ffmpeg, '-v', 'error', '-y', '-i', inputs.video, '-i', inputs.audio, '-map', '0:v', '-map', '1:a', '-c', 'copy', '-strict', 'experimental', outFile('ffmpeg')] },
    { name: 'vidmux (ours)', out: outFile('ours'), cmd: [...js, '--child', 'ours', inputs.video, inputs.audio, outFile('ours')] },
    { name: 'mediabunny', out: outFile('mediabunny'), cmd: [...js, '--child', 'mediabunny', inputs.video, inputs.audio, outFile('mediabunny')] },
    { name: CLI, out: outFile('cli'), cmd: [process.execPath, cliBin, 'mux', '--video', inputs.video, '--audio', inputs.audio, '--out', outFile('cli')] },
  ];
  const runOnce = async (c: (typeof contenders)[number]): Promise<Sample> => {
    // Nothing of an earlier run (or anything else) left to write back while this one is timed.
    spawnSync('sync');
    try {
      return await timed(c.cmd);
    } finally {
      rmSync(c.out, { force: true });
    }
  };
  process.stderr.write(`input: ${(inputBytes / 1e9).toFixed(2)} GB (${what}); warming up, then ${RUNS} runs each, interleaved\n`);
  await warmPageCache(inputs.video);
  await warmPageCache(inputs.audio);
  for (const c of contenders) {
    const s = await runOnce(c);
    process.stderr.write(`  warm-up ${c.name}: ${s.seconds.toFixed(2)} s, ${s.rssMb.toFixed(0)} MB (not counted)\n`);
  }
  const results = new Map<string, Sample[]>(contenders.map((c) => [c.name, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const c of contenders) {
      const s = await runOnce(c);
      results.get(c.name)!.push(s);
      process.stderr.write(`  run ${run + 1} ${c.name}: ${s.seconds.toFixed(2)} s, ${s.rssMb.toFixed(0)} MB\n`);
    }
  }
  const base = results.get('ffmpeg -c copy')!;
  const baseTime = median(base.map((s) => s.seconds));
  const baseRss = median(base.map((s) => s.rssMb));
  const range = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;
  const rows = contenders.map((c) => {
    const r = results.get(c.name)!;
    const times = r.map((s) => s.seconds);
    const rss = r.map((s) => s.rssMb);
    const t = median(times);
    const m = median(rss);
    const cells = [
      c.name.padEnd(16),
      `${t.toFixed(2)} s`.padStart(9),
      `${(t / baseTime).toFixed(2)}x`.padStart(9),
      `${range(times, 2)} s`.padStart(13),
      `${m.toFixed(0)} MB`.padStart(8),
      `${(m / baseRss).toFixed(2)}x`.padStart(9),
      `${range(rss, 0)} MB`.padStart(12),
    ];
    return `| ${cells.join(' | ')} |`;
  });
  process.stdout.write(
    [
      `mux benchmark, ${what}: ${(inputBytes / 1e9).toFixed(2)} GB input, medians of ${RUNS} interleaved runs (after one warm-up run each)`,
      '| tool             | wall time | vs ffmpeg | wall min-max  | peak RSS | vs ffmpeg | RSS min-max  |',
      '|------------------|-----------|-----------|---------------|----------|-----------|--------------|',
      ...rows,
      // Each round's own ratio: load that drifts between rounds hits both sides of it alike.
      ...contenders.slice(1).map((c) => {
        const ratios = results.get(c.name)!.map((s, i) => s.seconds / base[i]!.seconds);
        return `per-round wall time ratio ${c.name} / ffmpeg: median ${median(ratios).toFixed(2)}x, ${range(ratios, 2)}x`;
      }),
      `targets: ours <= 2.0x ffmpeg wall time, faster than mediabunny, peak RSS <= 150 MB`,
      cliVerdict(results.get(CLI)!, base),
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
