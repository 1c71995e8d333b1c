/**
 * A live DASH stream for tests: a static presentation (test/fixtures/streams.ts liveDashSource)
 * served as a dynamic MPD whose segments become available one by one in real time, counted from
 * the first request (availabilityStartTime). Segments are refused (404) before they are available,
 * as a live origin does. `end()` turns the MPD static (the stream ended), as DASH live streams end.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serveFile } from './static-range';

export interface LiveDash {
  url: string;
  /** Segments available now (each is `segmentSeconds` long). */
  available(): number;
  end(): void;
  /** Paths of segment requests answered 200, in order. */
  readonly served: string[];
  close(): Promise<void>;
}

export async function startLiveDash(source: { dir: string; manifest: string; segments: number }, opts: { segmentSeconds?: number } = {}): Promise<LiveDash> {
  const seconds = opts.segmentSeconds ?? 1;
  const staticMpd = readFileSync(join(source.dir, source.manifest), 'utf8');
  let startedAt: number | null = null;
  let endedAt: number | null = null;
  const served: string[] = [];
  const available = () => {
    if (startedAt === null) return 0;
    const until = endedAt ?? Date.now();
    return Math.min(source.segments, Math.floor((until - startedAt) / 1000 / seconds));
  };
  const mpd = () => {
    const ended = endedAt !== null || available() >= source.segments;
    const ast = new Date(startedAt!).toISOString();
    const head = ended
      ? `type="static" mediaPresentationDuration="PT${available() * seconds}S"`
      : `type="dynamic" availabilityStartTime="${ast}" publishTime="${new Date().toISOString()}" minimumUpdatePeriod="PT${seconds}S" timeShiftBufferDepth="PT6S" suggestedPresentationDelay="PT2S"`;
    return staticMpd
      .replace(/\s(type|mediaPresentationDuration|availabilityStartTime|publishTime|minimumUpdatePeriod|timeShiftBufferDepth)="[^"]*"/g, '')
      .replace(/<MPD\b/, `<MPD ${head}`)
      .replace(/<Period\b[^>]*>/, '<Period id="0" start="PT0S">');
  };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    res.setHeader('access-control-allow-origin', '*');
    startedAt ??= Date.now();
    if (path.endsWith('.mpd')) {
      res.writeHead(200, { 'content-type': 'application/dash+xml', 'cache-control': 'no-store' });
      res.end(mpd());
      return;
    }
    const n = /-(\d+)\.m4s$/.exec(path);
    if (n && Number(n[1]) > available()) {
      res.writeHead(404).end('not yet');
      return;
    }
    served.push(path);
    serveFile(req, res, join(source.dir, path.split('/').pop()!));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/live/manifest.mpd`;
  return {
    url,
    available,
    end: () => void (endedAt ??= Date.now()),
    served,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
