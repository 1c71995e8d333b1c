/**
 * The fault table, network and hostile-server rows (test/faults/network-cases.ts), each run
 * through the one save use case as the CLI runs it: the page provider's file download over the
 * network engine into files. Saved files are compared with the source; failures must carry the
 * code and words of the case and leave nothing in the output folder. Waits are recorded, not
 * slept; the stall and low-speed limits are short so the table runs in seconds.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../lib/jobs/run-job';
import { HttpClient } from '../../lib/net/http';
import { NodeOutputs } from '../../lib/node/outputs';
import { createProviders } from '../../lib/providers';
import { JobSpecSchema } from '../../lib/schemas/job-spec';
import { startMediaServer, type MediaServer } from '../fakes/media-server';
import { NETWORK_CASES } from './network-cases';

const FTYP = Buffer.from([0, 0, 0, 24, ...Buffer.from('ftypisom'), 0, 0, 2, 0, ...Buffer.from('isommp41')]);
const DATA = Buffer.concat([FTYP, randomBytes(600 * 1024)]);
const NEW_VERSION = Buffer.from(DATA.map((b, i) => (i < 64 ? b : b ^ 0x5a)));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let server: MediaServer;

beforeAll(async () => {
  server = await startMediaServer();
  await server.addFile('clip.mp4', DATA);
  await server.addFile('noise.mp4', randomBytes(300 * 1024));
});
afterAll(() => server.close());

describe('fault table: network and hostile servers (the CLI road)', () => {
  for (const c of NETWORK_CASES) {
    it(`${c.id}: ${c.fault} -> ${c.expected}`, async () => {
      const http = new HttpClient({ sleep: async () => {}, random: () => 0, stallTimeoutMs: 300, headersTimeoutMs: 2000, lowSpeed: { bytesPerSecond: 20_000, windowMs: 400 } });
      const src = c.deadPort ? 'http://127.0.0.1:9/files/clip.mp4' : server.fileUrl(c.noise ? 'noise.mp4' : 'clip.mp4', c.faults);
      const dir = mkdtempSync(join(tmpdir(), 'vidmux-fault-'));
      const spec = JobSpecSchema.parse({
        jobId: c.id,
        // The page is on this computer, like its media (a page on the internet may not reach it).
        url: `${server.origin}/watch`,
        media: { id: 'v1', kind: 'file', src, mimeType: 'video/mp4', width: 640, height: 360, duration: 4 },
        wish: { quality: 'best' },
        providers: [{ id: 'page', apiKey: null, baseUrl: null }],
        connections: 4,
      });
      const run = runJob(spec, {
        providers: (s) => createProviders(s.providers, { http, connections: s.connections, chunkSize: 64 * 1024 }),
        outputs: new NodeOutputs(dir),
        onEvent: () => {},
        signal: new AbortController().signal,
      });
      if ('saved' in c.outcome) {
        const { outcome } = await run;
        if (outcome.type !== 'ready') throw new Error('not saved');
        expect(sha(readFileSync(outcome.url))).toBe(sha(c.outcome.saved === 'source' ? DATA : NEW_VERSION));
      } else {
        const err = await run.then(
          () => null,
          (e: unknown) => e as { code: string; message: string },
        );
        expect(err, 'it must fail').not.toBeNull();
        expect(err!.code).toBe(c.outcome.code);
        expect(err!.message).toMatch(c.outcome.message);
        expect(readdirSync(dir), 'nothing left behind').toEqual([]);
      }
    }, 30_000);
  }
});
