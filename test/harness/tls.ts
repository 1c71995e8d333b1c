/**
 * A test certificate for the providers' real hostnames, so the browser e2e tests reach the local
 * fakes at https://api.vidpickr.com and friends with the shipped default base URLs. Chromium is
 * told to trust exactly this key (--ignore-certificate-errors-spki-list), nothing else.
 * Made once with openssl and cached in .cache/tls.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Every hostname the fakes answer for in the browser. */
export const FAKE_HOSTS = [
  'api.vidpickr.com',
  'renderio.dev',
  'api.renderio.dev',
  'storage.renderio.dev',
  'api.tornadoapi.io',
  'files.tornadoapi.io',
  'www.youtube.com',
  'youtube.com',
  'm.youtube.com',
  'youtu.be',
  'vimeo.com',
  'www.tiktok.com',
  'api.vidio.ai',
  'files.vidio.ai',
];

export interface TestTls {
  key: string;
  cert: string;
  /** base64 SHA-256 of the certificate's public key, for --ignore-certificate-errors-spki-list. */
  spki: string;
}

const DIR = resolve(import.meta.dirname, '../../.cache/tls');

/** The cached test key and certificate (made on first use). */
export function testTls(): TestTls {
  // Named after the host list: adding a host makes a new certificate, not a stale one.
  const tag = createHash('sha256').update(FAKE_HOSTS.join(',')).digest('hex').slice(0, 12);
  const keyPath = join(DIR, `key-${tag}.pem`);
  const certPath = join(DIR, `cert-${tag}.pem`);
  if (!existsSync(certPath)) {
    mkdirSync(DIR, { recursive: true });
    const tmp = `${DIR}/tmp-${process.pid}`;
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=Vidmux test fakes',
      '-keyout', `${tmp}-key.pem`, '-out', `${tmp}-cert.pem`,
      '-addext', `subjectAltName=${FAKE_HOSTS.map((h) => `DNS:${h}`).join(',')}`,
    ], { stdio: 'ignore' });
    renameSync(`${tmp}-key.pem`, keyPath);
    renameSync(`${tmp}-cert.pem`, certPath);
  }
  const cert = readFileSync(certPath, 'utf8');
  const spki = createHash('sha256').update(createPublicKey(cert).export({ type: 'spki', format: 'der' })).digest('base64');
  return { key: readFileSync(keyPath, 'utf8'), cert, spki };
}

/**
 * Host rules that resolve no name at all (tests never reach the internet), except loopback and the
 * given fakes (name -> local port, reached as https on 443).
 */
export function hostResolverRules(hosts: Record<string, number> = {}): string {
  const rules = Object.entries(hosts).map(([host, port]) => `MAP ${host}:443 127.0.0.1:${port}`);
  return `--host-resolver-rules=${[...rules, 'MAP * ~NOTFOUND', 'EXCLUDE localhost', 'EXCLUDE 127.0.0.1'].join(', ')}`;
}

/** Chromium flags that send `hosts` (name -> local port) to 127.0.0.1 and trust the test key. */
export function chromiumFakeHostArgs(hosts: Record<string, number>, tls: TestTls): string[] {
  return [hostResolverRules(hosts), `--ignore-certificate-errors-spki-list=${tls.spki}`];
}
