/**
 * `npm run bench:net`: the network engine against the media fake with a per-connection bandwidth
 * cap, the way throttling CDNs behave. Downloads one big random file with 1, 4 and 8 connections
 * and with `curl` (one connection) as the baseline, each several times, and prints medians of
 * throughput, speedup over one connection and peak RSS.
 *
 * Every download runs in its own child process (under /usr/bin/time) so its RSS is its own, not
 * the server's. The engine rows time the download inside the child; the `vidmux CLI` rows time the
 * package's `bin` (`node dist/cli/vidmux.mjs download URL --connections N`, built first when stale)
 * as a user does: a whole process from start to exit, its own start-up, probing and file placing
 * included. Environment: BENCH_NET_MB (file size, default 200 MiB), BENCH_NET_RUNS (default 3),
 * BENCH_NET_CAP (bytes/s per connection, default 4000000).
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_CHUNK_SIZE, openRangedSource } from '../lib/net/ranged-fetch';
import { copyToSink } from '../lib/net/save';
import { NodeFileSink } from '../lib/node/files';
import { startMediaServer } from '../test/fakes/media-server';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, '.cache', 'bench');
const MIB = 1024 * 1024;
/** The package's `bin` (scripts/build-cli.mjs writes it). */
const CLI_BIN = join(ROOT, 'dist/cli/vidmux.mjs');
/** An ftyp box: the CLI's `download` checks that a direct link serves media before saving it. */
const FTYP = Buffer.from([0, 0, 0, 24, ...Buffer.from('ftypisom'), 0, 0, 2, 0, ...Buffer.from('isommp41')]);

/** Child mode: download once, print `{bytes, seconds, maxRssKiB}` as JSON. */
async function child(url: string, connections: number, out: string, chunkSize?: number): Promise<void> {
  const t0 = performance.now();
  const source = await openRangedSource(url, { connections, ...(chunkSize ? { chunkSize } : {}) });
  const bytes = await copyToSink(source, new NodeFileSink(out));
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ bytes, seconds, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
}

/** Makes the random test file once (gitignored cache); written under a temp name first. */
async function ensureFile(sizeBytes: number): Promise<string> {
  await mkdir(CACHE, { recursive: true });
  const path = join(CACHE, `net-${sizeBytes}.mp4`);
  if (existsSync(path)) return path;
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.write(FTYP);
    for (let done = FTYP.length; done < sizeBytes; ) {
      const n = Math.min(8 * MIB, sizeBytes - done);
      await fh.write(randomBytes(n));
      done += n;
    }
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  return path;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MIB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface Sample {
  seconds: number;
  rssMiB: number;
}

/** Runs `cmd` under /usr/bin/time; returns its stdout and peak RSS in KiB. */
async function timed(cmd: string, args: string[]): Promise<{ stdout: string; maxRssKiB: number }> {
  const { stdout, stderr } = await run('/usr/bin/time', ['-f', 'VIDMUX_MAXRSS=%M', cmd, ...args], {
    cwd: ROOT,
    maxBuffer: 16 * MIB,
  });
  const m = /VIDMUX_MAXRSS=(\d+)/.exec(stderr);
  if (!m) throw new Error(`no RSS from /usr/bin/time: ${stderr}`);
  return { stdout, maxRssKiB: Number(m[1]) };
}

async function ours(url: string, connections: number, out: string): Promise<Sample> {
  const { stdout, maxRssKiB } = await timed(process.execPath, ['--import', 'tsx', 'bench/net.ts', '--child', url, String(connections), out]);
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number };
  return { seconds: r.seconds, rssMiB: maxRssKiB / 1024 };
}

/** The CLI as a user runs it, timed from spawn to exit; the file lands in a fresh folder, moved to `out`. */
async function cli(url: string, connections: number, out: string): Promise<Sample> {
  const dir = await mkdtemp(join(CACHE, 'net-cli-'));
  try {
    const t0 = performance.now();
    const { stdout, maxRssKiB } = await timed(process.execPath, [CLI_BIN, 'download', url, '--connections', String(connections), '--out', dir, '--json']);
    const seconds = (performance.now() - t0) / 1000;
    const { file } = JSON.parse(stdout.trim().split('\n').pop()!) as { file: string };
    await rename(file, out);
    return { seconds, rssMiB: maxRssKiB / 1024 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function curl(url: string, out: string): Promise<Sample> {
  const { stdout, maxRssKiB } = await timed('/usr/bin/curl', ['-sS', '--fail', '-o', out, '-w', '%{time_total}', url]);
  return { seconds: Number(stdout.trim()), rssMiB: maxRssKiB / 1024 };
}

/** Peak RSS of the child doing nothing but loading the engine: the floor under every figure. */
async function baselineRss(): Promise<number> {
  const { maxRssKiB } = await timed(process.execPath, ['--import', 'tsx', 'bench/net.ts', '--baseline']);
  return maxRssKiB / 1024;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function main(): Promise<void> {
  const sizeBytes = Math.round(Number(process.env.BENCH_NET_MB ?? 200) * MIB);
  const runs = Math.max(1, Number(process.env.BENCH_NET_RUNS ?? 3));
  const cap = Number(process.env.BENCH_NET_CAP ?? 4_000_000);
  const started = performance.now();

  const file = await ensureFile(sizeBytes);
  const expectedSha = await sha256File(file);
  const server = await startMediaServer({ bytesPerSecond: cap });
  await server.addFile('big.mp4', { path: file });
  const url = server.fileUrl('big.mp4');
  const out = join(CACHE, `out-${process.pid}.bin`);

  const configs = [
    { name: 'vidmux, 1 connection', connections: 1 },
    { name: 'vidmux, 4 connections', connections: 4 },
    { name: 'vidmux, 8 connections', connections: 8 },
    { name: 'curl, 1 connection', connections: 0 },
    { name: 'vidmux CLI, 4 connections (process)', connections: 4, cli: true },
    { name: 'vidmux CLI, 8 connections (process)', connections: 8, cli: true },
  ];
  const samples = new Map<string, Sample[]>(configs.map((c) => [c.name, []]));
  process.stderr.write(
    `bench:net  file ${(sizeBytes / MIB).toFixed(0)} MiB, cap ${(cap / 1e6).toFixed(1)} MB/s per connection, ${runs} runs each, chunk ${DEFAULT_CHUNK_SIZE / MIB} MiB\n`,
  );
  const baseline = await baselineRss();
  // The CLI rows run the bin as shipped: (re)built here when a source is newer, never in a timed run.
  if (spawnSync(process.execPath, [join(ROOT, 'scripts/build-cli.mjs'), '--if-stale'], { stdio: 'inherit' }).status !== 0) throw new Error('scripts/build-cli.mjs failed');
  try {
    // Rounds interleave the configurations so drift on the machine hits all of them alike.
    for (let round = 1; round <= runs; round++) {
      for (const c of configs) {
        await rm(out, { force: true });
        const s = c.cli ? await cli(url, c.connections, out) : c.connections === 0 ? await curl(url, out) : await ours(url, c.connections, out);
        const sha = await sha256File(out);
        if (sha !== expectedSha) throw new Error(`${c.name}: downloaded bytes differ from the source`);
        samples.get(c.name)!.push(s);
        process.stderr.write(
          `  round ${round}  ${c.name.padEnd(36)} ${(sizeBytes / 1e6 / s.seconds).toFixed(2).padStart(6)} MB/s  ${s.seconds.toFixed(2)} s  RSS ${s.rssMiB.toFixed(0)} MiB  sha256 ok\n`,
        );
      }
    }
  } finally {
    await rm(out, { force: true });
    await server.close();
  }

  const one = median(samples.get('vidmux, 1 connection')!.map((s) => sizeBytes / s.seconds));
  // One connection streams with no chunk buffer: what N connections use above it is their buffer.
  const oneRss = median(samples.get('vidmux, 1 connection')!.map((s) => s.rssMiB));
  const rows = configs.map((c) => {
    const ss = samples.get(c.name)!;
    const mbps = median(ss.map((s) => sizeBytes / s.seconds));
    const buffer = c.connections === 0 || c.cli ? '-' : c.connections === 1 ? 'stream' : `${((c.connections + 1) * DEFAULT_CHUNK_SIZE) / MIB} MiB`;
    return {
      config: c.name,
      throughputMBps: mbps / 1e6,
      speedup: mbps / one,
      peakRssMiB: median(ss.map((s) => s.rssMiB)),
      rssAboveOneConnMiB: c.connections > 1 && !c.cli ? median(ss.map((s) => s.rssMiB)) - oneRss : null,
      maxRssMiB: Math.max(...ss.map((s) => s.rssMiB)),
      bufferLimit: buffer,
    };
  });

  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const table = [
    line(['download', 'throughput (MB/s, median)', 'speedup vs 1 conn', 'peak RSS (MiB, median / max)', 'RSS above 1 conn (MiB)', 'buffer limit']),
    line(['---', '---:', '---:', '---:', '---:', '---:']),
    ...rows.map((r) =>
      line([
        r.config,
        r.throughputMBps.toFixed(2),
        `${r.speedup.toFixed(2)}x`,
        `${r.peakRssMiB.toFixed(0)} / ${r.maxRssMiB.toFixed(0)}`,
        r.rssAboveOneConnMiB === null ? '-' : r.rssAboveOneConnMiB.toFixed(0),
        r.bufferLimit,
      ]),
    ),
  ];
  process.stdout.write(`\n${table.join('\n')}\n\n`);
  process.stdout.write(
    `file ${(sizeBytes / MIB).toFixed(0)} MiB (${(sizeBytes / 1e6).toFixed(1)} MB); cap ${(cap / 1e6).toFixed(1)} MB/s per connection; ` +
      `${runs} runs each; engine child baseline RSS ${baseline.toFixed(0)} MiB (node + tsx, engine loaded, no download); ` +
      `total ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
  const four = rows[1]!.speedup;
  const eight = rows[2]!.speedup;
  process.stdout.write(`targets: 4 conns >= 3.6x: ${four >= 3.6 ? 'met' : 'MISSED'} (${four.toFixed(2)}x); 8 conns >= 6.5x: ${eight >= 6.5 ? 'met' : 'MISSED'} (${eight.toFixed(2)}x)\n`);
  // What the whole process adds to the engine's own time: start-up, probing, placing the file.
  for (const n of [4, 8]) {
    const engine = median(samples.get(`vidmux, ${n} connections`)!.map((s) => s.seconds));
    const whole = median(samples.get(`vidmux CLI, ${n} connections (process)`)!.map((s) => s.seconds));
    process.stdout.write(`CLI as a whole process, ${n} connections: ${whole.toFixed(2)} s, ${(whole / engine).toFixed(2)}x the engine's own ${engine.toFixed(2)} s (+${(whole - engine).toFixed(2)} s)\n`);
  }
  await writeFile(join(CACHE, 'net-results.json'), `${JSON.stringify({ sizeBytes, cap, runs, baselineRssMiB: baseline, rows, samples: Object.fromEntries(samples) }, null, 2)}\n`);
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  child(argv[1]!, Number(argv[2]), argv[3]!, argv[4] ? Number(argv[4]) : undefined).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
} else if (argv[0] === '--baseline') {
  // Modules above are already loaded: that is the floor.
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`bench:net failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
