/**
 * A local forward proxy that gives Firefox what Chromium gets from `--host-resolver-rules`: the
 * providers' real hostnames (https://api.vidpickr.com, https://www.youtube.com, ...) reach the local
 * fakes, and no other name reaches anything.
 *
 * Why a proxy: Firefox has no switch that maps a hostname to another address and port (its
 * `network.dns.localDomains` pref sends names to 127.0.0.1 but keeps port 443, and the fakes listen
 * on free ports; an /etc/hosts entry needs the same port and root). Firefox does send every http
 * and https request of every context (web pages, the extension's background page, its own
 * background services) to a configured HTTP proxy ({@link firefoxProxyPrefs}), naming the host in
 * the request (`CONNECT api.vidpickr.com:443`) without resolving it itself. So this proxy:
 *
 * - tunnels `CONNECT <mapped host>:443` to `127.0.0.1:<mapped port>` (TLS stays end to end: the
 *   browser talks TLS with the fake, which serves the test certificate for the real name);
 * - refuses everything else with 403 (any other CONNECT, and every plain-http proxy request), and
 *   records it in `refused`, so Firefox's own background traffic and any test mistake never
 *   leaves the machine, and a test can check that nothing meant for a fake was refused.
 *
 * Loopback stays direct (`no_proxies_on`, and Firefox never proxies localhost by default), so the
 * demo sites on http://127.0.0.1:<port> work as before.
 */
import { connect } from 'node:net';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ProxyRequest {
  /** CONNECT, or the method of a plain-http request. */
  method: string;
  host: string;
  port: number;
}

export interface FakeHostProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** Tunnels opened to a fake, in order. */
  tunnelled: ProxyRequest[];
  /** Requests refused (unmapped host or port, plain http), in order. */
  refused: ProxyRequest[];
  close(): Promise<void>;
}

/** `host:port` of a CONNECT (or an absolute http URL's authority). */
function authority(target: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(`http://${target}`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : defaultPort };
}

/** Starts the proxy: `hosts` maps a hostname to the local port its https fake listens on. */
export async function startFakeHostProxy(hosts: Record<string, number>): Promise<FakeHostProxy> {
  const tunnelled: ProxyRequest[] = [];
  const refused: ProxyRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    // A plain-http proxy request ("GET http://example.com/ HTTP/1.1"): never forwarded.
    let where = { host: '', port: 80 };
    try {
      where = authority(new URL(req.url ?? '').host, 80);
    } catch {
      // not an absolute URL: nothing to forward either
    }
    refused.push({ method: req.method ?? 'GET', ...where });
    res.writeHead(403, { 'content-type': 'text/plain', connection: 'close' }).end('Refused by the test proxy: no plain http off the machine\n');
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    client.on('error', () => {});
    const where = authority(req.url ?? '', 443);
    const to = where.port === 443 ? hosts[where.host.toLowerCase()] : undefined;
    if (to === undefined) {
      refused.push({ method: 'CONNECT', ...where });
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    tunnelled.push({ method: 'CONNECT', ...where });
    const upstream = connect(to, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    port: (server.address() as AddressInfo).port,
    tunnelled,
    refused,
    close: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}

/**
 * Firefox prefs that send all http and https traffic through the proxy on `port`, except loopback.
 * HTTP/3 is off (QUIC is UDP and would bypass an HTTP proxy), and so are DNS prefetching and DNS
 * over HTTPS, so names are not even looked up.
 */
export function firefoxProxyPrefs(port: number): Record<string, string | number | boolean> {
  return {
    'network.proxy.type': 1, // manual
    'network.proxy.http': '127.0.0.1',
    'network.proxy.http_port': port,
    'network.proxy.ssl': '127.0.0.1',
    'network.proxy.ssl_port': port,
    'network.proxy.share_proxy_settings': false,
    'network.proxy.socks': '',
    'network.proxy.no_proxies_on': 'localhost, 127.0.0.1',
    'network.proxy.allow_hijacking_localhost': false,
    'network.http.http3.enable': false,
    'network.dns.disablePrefetch': true,
    'network.trr.mode': 5, // DNS over HTTPS: off
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
  };
}
