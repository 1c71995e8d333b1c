/**
 * `npm run bench:browser [-- --only dash,hls,mp4] [--runs 3] [--cap 8000000]`: the built extension in
 * headless Chromium (as the e2e tests run it), from the click on the Vidmux button (the pointer on
 * it already, as a user's is when the button shows) to the file in the downloads folder, against
 * what a power user would script on the same server in the same run.
 *
 * Scenarios (inputs made once from the other benches' cached media, in .cache/bench/browser/):
 * - dash: a 1.1 GB DASH pair (one H.264 file + one AAC file, single-file SegmentBase tracks, as
 *   ffmpeg's DASH muxer and YouTube-like sites serve them) played by dash.js;
 * - hls: a 1 GB HLS of MPEG-TS segments (about 500, ~2 MB each, cut at video PES starts from
 *   bench:transmux's 720p stream) played by hls.js; the engine transmuxes it to MP4;
 * - mp4: a 2.2 GB progressive MP4 (faststart) in a plain `<video>`; saved as it is.
 * The server (the demo site's stream server) caps every connection at `--cap` bytes/s (default 8 MB/s,
 * a throttling CDN). The extension uses its default 4 connections per track.
 *
 * Baseline, per scenario, timed as one script: `curl` with the same connections (4 byte ranges per
 * track; 4 segments at a time) into files, then joined: `ffmpeg -c copy` into one MP4 (dash, hls),
 * `cat` (mp4: ranges of one file need no muxing).
 * Ideal: bytes / (cap x 4): every connection busy from start to end, nothing else.
 *
 * Per save, also: the peak memory (PSS, so shared pages count once) of the whole Chromium process
 * tree above its idle baseline just before the click, sampled from /proc every 200 ms (on a worker
 * thread, bench/proc-sampler.ts: the server shares this event loop); the event-loop delay of the
 * page with the button while the save runs (a 10 ms interval timer's lateness; p99); and, from
 * the server's request log, how busy the connections were (ours and the baseline's), which is
 * what separates a save from the ideal. Rounds interleave ours and the baseline; medians of
 * `--runs` (default 3) after one untimed warm-up of each. Needs `npm run build` first, and curl.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { startDemoSite, type DemoSite } from '../test/fakes/demo-site';
import type { StreamRequest, StreamServer } from '../test/fakes/stream-server';
import { ProcSampler } from './proc-sampler';
import { ffmpegPath, ffprobeJson } from '../test/fixtures/ffmpeg';
import { launchExtensionBrowser, listDownloads, pointAtVidmuxButton, type ExtensionBrowser } from '../test/harness/extension-browser';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BENCH = join(ROOT, '.cache/bench');
const DIR = join(BENCH, 'browser');
const MB = 1e6;
const CONNECTIONS = 4;

type ScenarioId = 'dash' | 'hls' | 'mp4';
interface Scenario {
  id: ScenarioId;
  title: string;
  /** The mount folder (served at /streams/bench-<id>/). */
  dir: string;
  /** The page to open, relative to the site. */
  page: string;
  /** Bytes a client must fetch. */
  bytes: number;
  /** The curl + join script's steps. */
  baseline(origin: string, work: string): Promise<void>;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const log = (s: string) => process.stderr.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quantile = (xs: number[], q: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]! : 0);

async function ffmpeg(args: string[]): Promise<void> {
  await run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 1 << 26 });
}

/** Writes a folder's content through a temporary name: a half-made input is never taken for one. */
async function once(dir: string, make: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await make(tmp);
  renameSync(tmp, dir);
  return dir;
}

function need(path: string, bench: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run ${bench}\` once first (it makes the input this bench reuses)`);
  return path;
}

// ---------------------------------------------------------------------------------------------
// Inputs.

/** The DASH pair: bench:mux's 10-minute 1080p H.264 and its AAC, as single-file DASH tracks. */
async function dashInput(): Promise<string> {
  const video = need(join(BENCH, 'bench-10min-1080p.mp4'), 'bench:mux');
  const audio = need(join(BENCH, 'bench-10min.m4a'), 'bench:mux');
  return once(join(DIR, 'dash'), async (tmp) => {
    log('preparing the DASH pair (first run only)...');
    await ffmpeg(['-i', video, '-i', audio, '-map', '0:v', '-map', '1:a', '-c', 'copy', '-f', 'dash', '-single_file', '1', '-use_template', '0', '-use_timeline', '0', '-adaptation_sets', 'id=0,streams=v id=1,streams=a', join(tmp, 'manifest.mpd')]);
  });
}

/** The progressive MP4: the same video and audio, twice over (20 minutes), moov first. */
async function mp4Input(): Promise<string> {
  const video = need(join(BENCH, 'bench-10min-1080p.mp4'), 'bench:mux');
  const audio = need(join(BENCH, 'bench-10min.m4a'), 'bench:mux');
  return once(join(DIR, 'mp4'), async (tmp) => {
    log('preparing the 2 GB MP4 (first run only)...');
    await ffmpeg(['-stream_loop', '1', '-i', video, '-stream_loop', '1', '-i', audio, '-map', '0:v', '-map', '1:a', '-c', 'copy', '-movflags', '+faststart', join(tmp, 'big.mp4')]);
    writeFileSync(join(tmp, 'play.html'), '<!doctype html><title>Big progressive MP4</title><video id="v" src="big.mp4" controls muted preload="metadata" style="width:640px"></video>');
  });
}

const TS = 188;

/** PTS (90 kHz) of the PES starting in this TS packet, if it carries one. */
function ptsOf(p: Uint8Array): number | null {
  let at = 4;
  if (p[3]! & 0x20) at += 1 + p[4]!;
  if (at + 14 > TS || p[at] !== 0 || p[at + 1] !== 0 || p[at + 2] !== 1 || !(p[at + 7]! & 0x80)) return null;
  const b = p.subarray(at + 9, at + 14);
  return (b[0]! & 0x0e) * 536870912 + b[1]! * 4194304 + (b[2]! >> 1) * 32768 + b[3]! * 128 + (b[4]! >> 1);
}

/**
 * The HLS: bench:transmux's joined 1 GB TS (720p H.264 12 Mb/s + AAC) cut again into ~2 MB
 * segments, each starting where a video PES starts (whole frames, as segmenters cut them; not
 * always at a keyframe, which players and our engine handle: the segments are one continuous
 * stream). EXTINF from the video PTS.
 */
async function hlsInput(): Promise<string> {
  const ts = need(join(BENCH, 'transmux-1gb/stream.ts'), 'bench:transmux');
  return once(join(DIR, 'hls'), async (tmp) => {
    log('preparing the ~500-segment HLS (first run only)...');
    const size = statSync(ts).size;
    const fd = openSync(ts, 'r');
    const target = 2 * 1024 * 1024;
    const buf = new Uint8Array(64 * TS);
    let videoPid = -1;
    const cuts: Array<{ at: number; pts: number }> = [{ at: 0, pts: -1 }];
    for (let at = 0; at + TS <= size; ) {
      const n = readSync(fd, buf, 0, buf.length, at);
      for (let i = 0; i + TS <= n; i += TS, at += TS) {
        const p = buf.subarray(i, i + TS);
        const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
        if (!(p[1]! & 0x40)) continue;
        const pts = ptsOf(p);
        if (pts === null) continue;
        // The first PES stream id 0xE0 is the video.
        const off = p[3]! & 0x20 ? 5 + p[4]! : 4;
        if (videoPid < 0 && p[off + 3] === 0xe0) videoPid = pid;
        if (pid !== videoPid) continue;
        const last = cuts[cuts.length - 1]!;
        if (last.pts < 0) last.pts = pts;
        else if (at - last.at >= target) cuts.push({ at, pts });
      }
    }
    const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-MEDIA-SEQUENCE:0'];
    const durations: number[] = [];
    for (let i = 0; i < cuts.length; i++) {
      const start = cuts[i]!.at;
      const end = i + 1 < cuts.length ? cuts[i + 1]!.at : size;
      const seg = new Uint8Array(end - start);
      readSync(fd, seg, 0, seg.length, start);
      const name = `seg${String(i).padStart(4, '0')}.ts`;
      const out = openSync(join(tmp, name), 'w');
      writeSync(out, seg);
      closeSync(out);
      durations.push(i + 1 < cuts.length ? (cuts[i + 1]!.pts - cuts[i]!.pts) / 90000 : durations[i - 1] ?? 1);
      lines.push(`#EXTINF:${durations[i]!.toFixed(3)},`, name);
    }
    closeSync(fd);
    lines.splice(2, 0, `#EXT-X-TARGETDURATION:${Math.ceil(Math.max(...durations))}`);
    lines.push('#EXT-X-ENDLIST');
    writeFileSync(join(tmp, 'index.m3u8'), `${lines.join('\n')}\n`);
  });
}

const bytesIn = (dir: string, keep: (f: string) => boolean) =>
  readdirSync(dir)
    .filter(keep)
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);

// ---------------------------------------------------------------------------------------------
// The baseline: curl into files, then one MP4.

function sh(script: string): Promise<void> {
  return new Promise((ok, ko) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', ko);
    child.on('exit', (code) => (code === 0 ? ok() : ko(new Error(`baseline script failed (${code}): ${script.slice(0, 200)}`))));
  });
}

/** `curl` of `url` in `n` byte ranges at once, joined into `out`. */
function curlRanges(url: string, size: number, n: number, out: string): string {
  const part = Math.ceil(size / n);
  const gets = Array.from({ length: n }, (_, i) => `curl -sf -r ${i * part}-${Math.min(size, (i + 1) * part) - 1} -o '${out}.${i}' '${url}' &`).join('\n');
  return `${gets}\nwait\ncat ${Array.from({ length: n }, (_, i) => `'${out}.${i}'`).join(' ')} > '${out}'\nrm -f ${Array.from({ length: n }, (_, i) => `'${out}.${i}'`).join(' ')}`;
}

// ---------------------------------------------------------------------------------------------
// Measuring the browser: bench/proc-sampler.ts, off this thread.

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

interface Save {
  seconds: number;
  /** Seconds from the click until the browser's download began (then the browser saves the file). */
  downloadStart: number;
  peakMb: number;
  lagP99: number;
  file: string;
  /** CPU seconds spent during the save, by process kind (and this process, which serves and samples). */
  cpu: Map<string, number>;
  /** Each kind's own peak PSS over its idle PSS, MB. */
  peakByKind: Map<string, number>;
  /** Where the network time went, from the server's log of the media requests. */
  net: { first: number; last: number; busy: number; gapMs: number; requests: number; maxConcurrent: number; others: string };
}

/**
 * The media requests of one save from the server's log: when the first came and the last ended
 * (seconds after the click), and how busy the connections were in between (summed response time /
 * (span x connections)): what separates a save from the ideal besides the end.
 */
function networkUse(log: readonly StreamRequest[], t0: number): Save['net'] {
  const media = log.filter((r) => r.method === 'GET' && /\.(ts|mp4|m4s|m4a)$/.test(r.path) && r.bytesSent > 0);
  // Anything else the save asked the server (manifests, probes, CORS preflights), by method.
  const byMethod = new Map<string, number>();
  for (const r of log) if (!media.includes(r)) byMethod.set(r.method, (byMethod.get(r.method) ?? 0) + 1);
  const others = [...byMethod].map(([m, n]) => `${n} ${m}`).join(', ') || 'none';
  if (!media.length) return { first: NaN, last: NaN, busy: NaN, gapMs: NaN, requests: 0, maxConcurrent: 0, others };
  const first = Math.min(...media.map((r) => r.startedAt));
  const last = Math.max(...media.map((r) => r.endedAt ?? performance.now()));
  const sum = media.reduce((n, r) => n + ((r.endedAt ?? last) - r.startedAt), 0);
  return {
    first: (first - t0) / 1000,
    last: (last - t0) / 1000,
    busy: sum / ((last - first) * CONNECTIONS),
    gapMs: median(requestGaps(media)),
    requests: media.length,
    maxConcurrent: Math.max(...media.map((r) => r.concurrent)),
    others,
  };
}

/**
 * How long a connection sat idle before each request: from the end of the response that freed it
 * (the earliest-ending of the `CONNECTIONS` in use) to the request's arrival at the server. The
 * server's clock only, so it holds the client's whole turn-around: noticing the end, asking again,
 * and the request's way to the server (Chromium's `fetch()` took ~8 ms to arrive on the two-core bench machine).
 */
function requestGaps(media: readonly StreamRequest[]): number[] {
  const sorted = [...media].sort((a, b) => a.startedAt - b.startedAt);
  const ends: number[] = [];
  const gaps: number[] = [];
  for (const r of sorted) {
    if (ends.length >= CONNECTIONS) {
      ends.sort((a, b) => a - b);
      gaps.push(r.startedAt - ends.shift()!);
    }
    ends.push(r.endedAt ?? r.startedAt);
  }
  return gaps.length ? gaps : [NaN];
}

/**
 * One save: open the page, let the player start, then click and wait for the browser's download;
 * a save that neither finishes nor says it failed within `deadlineSeconds` fails the bench (a
 * broken build must not make it wait forever).
 */
async function saveOnce(b: ExtensionBrowser, procs: ProcSampler, url: string, streams: StreamServer, deadlineSeconds: number): Promise<Save> {
  const page: Page = await b.context.newPage();
  try {
    await page.goto(url);
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement | null)?.readyState! >= 2, undefined, { timeout: 60_000 });
    await page.locator('vidmux-download').waitFor({ state: 'attached', timeout: 30_000 });
    // The player has what it shows: pause it, so its own buffering does not share the server.
    await page.evaluate(() => (document.querySelector('video') as HTMLVideoElement).pause());
    // ...and wait until its buffer stops growing (a paused player fills it to its goal): the idle
    // baseline is then the page as it stays, and the save's memory is the save's alone.
    let last = -1;
    for (let still = 0, waited = 0; still < 3 && waited < 40; waited++) {
      await page.waitForTimeout(1000);
      const end = await page.evaluate(() => {
        const b = (document.querySelector('video') as HTMLVideoElement).buffered;
        return b.length ? b.end(b.length - 1) : 0;
      });
      still = end === last ? still + 1 : 0;
      last = end;
    }
    const idleSamples: Array<Map<string, number>> = [];
    for (let i = 0; i < 5; i++) {
      idleSamples.push(await procs.pss());
      await page.waitForTimeout(200);
    }
    const idle = median(idleSamples.map(total));
    const idleByKind = new Map([...new Set(idleSamples.flatMap((m) => [...m.keys()]))].map((k) => [k, median(idleSamples.map((m) => m.get(k) ?? 0))]));
    const peakByKind = new Map<string, number>();
    // The page's event loop: a 10 ms timer's lateness, while the save runs.
    await page.evaluate(() => {
      const w = window as unknown as { lags: number[]; lagTimer: number };
      w.lags = [];
      let due = performance.now() + 10;
      w.lagTimer = window.setInterval(() => {
        const now = performance.now();
        w.lags.push(Math.max(0, now - due));
        due = now + 10;
      }, 10);
    });
    const before = new Set((await listDownloads(b)).map((d) => d.id));
    // Timed from the click: the pointer is on the button (shown) already, as a user's is.
    const at = await pointAtVidmuxButton(page);
    streams.resetLog();
    const t0 = performance.now();
    const cpu0 = await procs.cpu();
    const server0 = process.cpuUsage();
    const sampling0 = procs.busyMs;
    await page.mouse.click(at.x, at.y);
    let peak = 0;
    let downloadStart = NaN;
    for (;;) {
      const now = await procs.pss();
      peak = Math.max(peak, total(now));
      for (const [k, v] of now) peakByKind.set(k, Math.max(peakByKind.get(k) ?? -Infinity, v - (idleByKind.get(k) ?? 0)));
      const mine = (await listDownloads(b)).filter((d) => !before.has(d.id));
      if (mine.length && Number.isNaN(downloadStart)) downloadStart = (performance.now() - t0) / 1000;
      const done = mine.find((d) => d.state !== 'in_progress');
      if (done) {
        const seconds = (performance.now() - t0) / 1000;
        if (done.state !== 'complete') throw new Error(`the download ended ${done.state}: ${done.error}`);
        const lags = await page.evaluate(() => {
          const w = window as unknown as { lags: number[]; lagTimer: number };
          clearInterval(w.lagTimer);
          return w.lags;
        });
        const cpu = await procs.cpu();
        for (const [k, v] of cpu) cpu.set(k, v - (cpu0.get(k) ?? 0));
        const server = process.cpuUsage(server0);
        cpu.set('bench process (server, sampler)', (server.user + server.system) / 1e6);
        cpu.set('of which sampling /proc', (procs.busyMs - sampling0) / 1000);
        return { seconds, downloadStart, peakMb: peak - idle, lagP99: quantile(lags, 0.99), file: done.filename, cpu, peakByKind, net: networkUse(streams.requests, t0) };
      }
      const state = await page.locator('vidmux-download').getAttribute('data-state');
      if (state === 'failed') throw new Error(`the save failed: ${await page.locator('vidmux-download').getAttribute('title')}`);
      if ((performance.now() - t0) / 1000 > deadlineSeconds) {
        throw new Error(`no finished download ${deadlineSeconds.toFixed(0)} s after the click (the button's state: ${state}; downloads: ${mine.map((d) => d.state).join(', ') || 'none'})`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await page.close();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const runs = Number(arg('runs') ?? 3);
  const cap = Number(arg('cap') ?? 8_000_000);
  const only = (arg('only') ?? 'dash,hls,mp4').split(',') as ScenarioId[];
  const work = join(DIR, 'work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  const scenarios: Scenario[] = [];
  if (only.includes('dash')) {
    const dir = await dashInput();
    const [v, a] = ['manifest-stream0.mp4', 'manifest-stream1.mp4'].map((f) => statSync(join(dir, f)).size) as [number, number];
    scenarios.push({
      id: 'dash', title: '1 GB DASH pair', dir, page: '/watch/dash-number.html?player=dash.js&src=/streams/bench-dash/manifest.mpd', bytes: v + a,
      baseline: (origin, w) => sh(`${curlRanges(`${origin}/streams/bench-dash/manifest-stream0.mp4`, v, CONNECTIONS, `${w}/v.mp4`)} &\n${curlRanges(`${origin}/streams/bench-dash/manifest-stream1.mp4`, a, CONNECTIONS, `${w}/a.mp4`)}\nwait\n'${ffmpegPath}' -hide_banner -loglevel error -y -i '${w}/v.mp4' -i '${w}/a.mp4' -map 0:v -map 1:a -c copy '${w}/out.mp4'`),
    });
  }
  if (only.includes('hls')) {
    const dir = await hlsInput();
    const segments = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
    scenarios.push({
      id: 'hls', title: `1 GB HLS, ${segments.length} TS segments`, dir, page: '/watch/hls-ts.html?player=hls.js&src=/streams/bench-hls/index.m3u8', bytes: bytesIn(dir, (f) => f.endsWith('.ts')),
      baseline: (origin, w) => {
        writeFileSync(`${w}/urls`, segments.map((s) => `url = "${origin}/streams/bench-hls/${s}"\noutput = "${w}/${s}"`).join('\n'));
        // curl's own parallel mode: 4 transfers at once, one config line per segment.
        return sh(`curl -sf --no-progress-meter --parallel --parallel-max ${CONNECTIONS} -K '${w}/urls'\ncat ${segments.map((s) => `'${w}/${s}'`).join(' ')} > '${w}/all.ts'\nrm -f ${segments.map((s) => `'${w}/${s}'`).join(' ')}\n'${ffmpegPath}' -hide_banner -loglevel error -y -i '${w}/all.ts' -c copy '${w}/out.mp4'`);
      },
    });
  }
  if (only.includes('mp4')) {
    const dir = await mp4Input();
    const size = statSync(join(dir, 'big.mp4')).size;
    scenarios.push({
      id: 'mp4', title: '2 GB progressive MP4', dir, page: '/streams/bench-mp4/play.html', bytes: size,
      baseline: (origin, w) => sh(curlRanges(`${origin}/streams/bench-mp4/big.mp4`, size, CONNECTIONS, `${w}/out.mp4`)),
    });
  }

  const site: DemoSite = await startDemoSite({});
  for (const s of scenarios) site.streams.mount(`bench-${s.id}`, { dir: s.dir });
  site.streams.setBandwidth(cap);
  const userDataDir = join(work, 'profile');
  mkdirSync(userDataDir, { recursive: true });
  const downloads = join(work, 'downloads');
  mkdirSync(downloads, { recursive: true });
  const browser = await launchExtensionBrowser({ userDataDir, downloadDir: downloads });
  const procs = new ProcSampler(userDataDir);
  const results = new Map<ScenarioId, { ours: Save[]; base: number[] }>();
  try {
    for (const s of scenarios) results.set(s.id, { ours: [], base: [] });
    for (let round = 0; round <= runs; round++) {
      for (const s of scenarios) {
        const r = results.get(s.id)!;
        // Five times the ideal and a minute: far past any save that works.
        const ours = await saveOnce(browser, procs, `${site.url}${s.page}`, site.streams, (5 * s.bytes) / (cap * CONNECTIONS) + 60);
        if (round === 0) {
          // Once, untimed: the saved file is a real MP4 of the whole length.
          const probe = await ffprobeJson(ours.file);
          log(`  ${s.id}: saved ${(statSync(ours.file).size / MB).toFixed(0)} MB, ${Number(probe.format.duration).toFixed(0)} s, ${probe.streams.map((x: { codec_name: string }) => x.codec_name).join('+')}`);
        }
        rmSync(ours.file, { force: true });
        site.streams.resetLog();
        const t0 = performance.now();
        await s.baseline(site.url, work);
        const base = (performance.now() - t0) / 1000;
        const bn = networkUse(site.streams.requests, t0);
        rmSync(join(work, 'out.mp4'), { force: true });
        for (const f of ['v.mp4', 'a.mp4', 'all.ts']) rmSync(join(work, f), { force: true });
        log(`${round === 0 ? 'warm-up' : `round ${round}`} ${s.id}: ours ${ours.seconds.toFixed(1)} s (+${ours.peakMb.toFixed(0)} MB, lag p99 ${ours.lagP99.toFixed(0)} ms), baseline ${base.toFixed(1)} s`);
        log(`  the browser's download began ${ours.downloadStart.toFixed(1)} s after the click, ${(ours.seconds - ours.downloadStart).toFixed(1)} s before the file was complete`);
        const n = ours.net;
        log(`  network: first media request ${n.first.toFixed(1)} s after the click, last response ended at ${n.last.toFixed(1)} s; ${n.requests} media requests (other requests: ${n.others}), connections busy ${(n.busy * 100).toFixed(0)}% in between (median idle before a request ${n.gapMs.toFixed(1)} ms), at most ${n.maxConcurrent} at once; the baseline's: ${bn.first.toFixed(1)} s to ${bn.last.toFixed(1)} s, busy ${(bn.busy * 100).toFixed(0)}% (${bn.gapMs.toFixed(1)} ms)`);
        log(`  peak memory over idle by process: ${[...ours.peakByKind].filter(([, v]) => v >= 5).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} +${v.toFixed(0)} MB`).join(', ')}`);
        log(`  CPU during the save: ${[...ours.cpu].filter(([, v]) => v >= 0.5).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
        if (round > 0) {
          r.ours.push(ours);
          r.base.push(base);
        }
      }
    }
  } finally {
    await procs.close();
    await browser.close();
    await site.close();
  }

  const rows = [
    `bench:browser: Chromium headless, the built extension, ${CONNECTIONS} connections per track, server cap ${(cap / MB).toFixed(0)} MB/s per connection, medians of ${runs}`,
    '',
    '| save | ours (click -> file) | baseline (curl + join) | ours / baseline | ideal | ideal / ours | peak memory over idle | page lag p99 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const s of scenarios) {
    const r = results.get(s.id)!;
    if (!r.ours.length) continue;
    const ours = median(r.ours.map((x) => x.seconds));
    const base = median(r.base);
    const ideal = s.bytes / (cap * CONNECTIONS);
    rows.push(
      `| ${s.title} (${(s.bytes / MB).toFixed(0)} MB) | ${ours.toFixed(1)} s | ${base.toFixed(1)} s | ${(ours / base).toFixed(2)}x | ${ideal.toFixed(1)} s | ${(ideal / ours).toFixed(2)} | +${median(r.ours.map((x) => x.peakMb)).toFixed(0)} MB (max +${Math.max(...r.ours.map((x) => x.peakMb)).toFixed(0)}) | ${median(r.ours.map((x) => x.lagP99)).toFixed(0)} ms |`,
    );
  }
  process.stdout.write(`${rows.join('\n')}\n`);
  rmSync(work, { recursive: true, force: true });
}

await main();
