/** The real CLI process: `node dist/cli/vidmux.mjs mux ...`, the built bin (and, for Ctrl-C, its `run` in this process). */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { NodeFileSink } from '../../lib/node/files';
import { VIDMUX_BIN } from '../../test/fixtures/cli-bin';
import { ffprobeJson, packetMd5s } from '../../test/fixtures/ffmpeg';
import { audioInputs, videoInputs } from '../../test/fixtures/media-matrix';
import { rewriteTableBox, stszCutTo } from '../../test/fixtures/mp4-tables';
import { EBML_ID, elements, webmInputs } from '../../test/fixtures/webm-media';
import { run } from './mux';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'vidmux-cli-mux-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [VIDMUX_BIN, ...args], { cwd: root }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('vidmux mux (CLI)', () => {
  it('muxes video + audio and prints one JSON summary line', async () => {
    const out = join(dir, 'out.mp4');
    const r = await cli(['mux', '--video', await videoInputs.h264Bframes(), '--audio', await audioInputs.aac48Stereo(), '--out', out]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!);
    expect(summary.output).toBe(out);
    expect(summary.bytes).toBe(statSync(out).size);
    expect(summary.streams.map((s: { kind: string }) => s.kind)).toEqual(['video', 'audio']);
    expect(summary.duration).toBeCloseTo(2, 2);
  });

  it('accepts audio only', async () => {
    const out = join(dir, 'audio.m4a');
    const r = await cli(['mux', '--audio', await audioInputs.aac44Mono(), '--out', out]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).streams).toHaveLength(1);
  });

  it('exits non-zero with a one-line error and no output file on bad input', async () => {
    const out = join(dir, 'bad.mp4');
    const r = await cli(['mux', '--video', join(root, 'package.json'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: The video input is not a readable MP4/);
    expect(existsSync(out)).toBe(false);
  });


  it('muxes YouTube-style WebM video + WebM audio into an MP4 (VP9 + Opus), packets unchanged', async () => {
    const [video, audio] = [await webmInputs.vp9Only(), await webmInputs.opusOnly()];
    const out = join(dir, 'webm-in.mp4');
    const r = await cli(['mux', '--video', video, '--audio', audio, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ container: 'mp4', streams: [{ kind: 'video' }, { kind: 'audio' }] });
    const probe = await ffprobeJson(out);
    expect(probe.format.format_name).toContain('mp4');
    expect(probe.streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['vp9', 'opus']);
    expect(await packetMd5s(out, '0:v')).toEqual(await packetMd5s(video, '0:v'));
    expect(await packetMd5s(out, '0:a')).toEqual(await packetMd5s(audio, '0:a'));
  });

  it('--container webm --out O.webm keeps WebM, with Cues', async () => {
    const [video, audio] = [await webmInputs.vp9Only(), await webmInputs.opusOnly()];
    const out = join(dir, 'kept.webm');
    const r = await cli(['mux', '--video', video, '--audio', audio, '--container', 'webm', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).container).toBe('webm');
    const probe = await ffprobeJson(out);
    expect(probe.format.format_name).toBe('matroska,webm');
    expect(await packetMd5s(out, '0:v')).toEqual(await packetMd5s(video, '0:v'));
    // Cues (read by the fixtures' own EBML walker, not ours) point at Clusters.
    const file = new Uint8Array(readFileSync(out));
    const segment = elements(file).find((e) => e.id === EBML_ID.Segment)!;
    const level1 = elements(file, segment.data, segment.end);
    const cues = level1.find((e) => e.id === EBML_ID.Cues);
    expect(cues).toBeDefined();
    expect(level1.filter((e) => e.id === EBML_ID.Cluster).length).toBeGreaterThan(0);
  });

  it('refuses H.264 into WebM with one clear line and leaves no file; a --container that contradicts the name is a usage error', async () => {
    const out = join(dir, 'h264.webm');
    const r = await cli(['mux', '--video', await videoInputs.h264Bframes(), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: H\.264 video can't be saved as WebM without re-encoding/);
    expect(existsSync(out)).toBe(false);
    const usage = await cli(['mux', '--video', await webmInputs.vp9Only(), '--container', 'webm', '--out', join(dir, 'x.mp4')]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/does not match the output name/);
  });

  it('refuses an input whose sample tables disagree (stsz 20, stts 60): exit 1, one line, no output nor .part', async () => {
    const broken = join(dir, 'stsz-cut.mp4');
    writeFileSync(broken, rewriteTableBox(new Uint8Array(readFileSync(await videoInputs.h264MoovAtEnd())), 'video', 'stsz', stszCutTo(20)));
    const out = join(dir, 'from-broken.mp4');
    const r = await cli(['mux', '--video', broken, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("error: The video track's sample tables disagree in the video input: stts lists 60 samples, stsz 20. (corrupt_media)\n");
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.part`)).toBe(false);
  });

  it('refuses an --out that is a directory up front (exit 2), and leaves nothing beside it', async () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(join(folder, 'kept'), { recursive: true });
    const before = readdirSync(dir);
    const r = await cli(['mux', '--video', await videoInputs.h264Bframes(), '--out', folder]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: --out \S+a-folder is a directory; give the output file's name\n/);
    expect(readdirSync(dir)).toEqual(before);
    expect(readdirSync(folder)).toEqual(['kept']);
    // A name that ends in a slash means a directory too, even one that isn't there yet.
    const slash = await cli(['mux', '--video', await videoInputs.h264Bframes(), '--out', join(dir, 'new-folder/')]);
    expect(slash.code).toBe(2);
    expect(readdirSync(dir)).toEqual(before);
  });

  it('exits 2 on usage errors', async () => {
    const r = await cli(['mux', '--video', 'x.mp4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out is required/);
  });
});

describe('vidmux mux: Ctrl-C', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('SIGINT while the output is being written: exit 130, one line, no output nor .part', async () => {
    const out = join(dir, 'interrupted.mp4');
    const write = NodeFileSink.prototype.write;
    let writes = 0;
    vi.spyOn(NodeFileSink.prototype, 'write').mockImplementation(async function (this: NodeFileSink, ...args) {
      await write.apply(this, args);
      // The part file is there: the user presses Ctrl-C (the command's own handler; nothing else listens here).
      if (++writes === 1) process.emit('SIGINT');
    });
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true));
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const code = await run(['--video', await videoInputs.h264Bframes(), '--audio', await audioInputs.aac48Stereo(), '--out', out]);
    expect(writes).toBeGreaterThan(0);
    expect(code).toBe(130);
    expect(stdout).not.toHaveBeenCalled();
    expect(stderr).toEqual(['error: Cancelled. (cancelled)\n']);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.part`)).toBe(false);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });
});
