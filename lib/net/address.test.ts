import { describe, expect, it } from 'vitest';
import { ProviderError } from '../errors';
import { hostKind, isPublicPage, localAddressKind, privateNetworkGuard, siteOf } from './address';

describe('localAddressKind', () => {
  it.each([
    // Loopback, in every form a URL accepts (the URL parser writes them as a.b.c.d).
    ['http://127.0.0.1:8080/a.mp4', 'loopback'],
    ['http://127.1.2.3/', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://0.0.0.0:3000/', 'loopback'],
    ['http://localhost/', 'loopback'],
    ['http://LocalHost.:9000/', 'loopback'],
    ['http://api.localhost/', 'loopback'],
    ['http://[::1]:8080/', 'loopback'],
    ['http://[::]/', 'loopback'],
    ['http://[0:0:0:0:0:0:0:1]/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['file:///etc/passwd', 'loopback'],
    // Private networks (RFC 1918, carrier-grade NAT), link-local, unique-local IPv6.
    ['http://10.0.0.1/', 'private'],
    ['http://172.16.0.1/', 'private'],
    ['http://172.31.255.255/', 'private'],
    ['http://192.168.1.1/cgi-bin/admin', 'private'],
    ['http://100.64.0.1/', 'private'],
    ['http://[::ffff:192.168.0.10]/', 'private'],
    ['http://[64:ff9b::10.1.2.3]/', 'private'],
    ['http://[fec0::1]/', 'private'],
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://[febf::1]/', 'link-local'],
    ['http://[fc00::1]/', 'unique-local'],
    ['http://[fd12:3456::1]/', 'unique-local'],
    // Names only a local network answers for.
    ['http://nas.local/video.mp4', 'local-name'],
    ['http://printer.home.arpa/', 'local-name'],
    ['http://db.internal/', 'local-name'],
    ['http://router.lan/', 'local-name'],
    ['http://router/', 'local-name'],
  ])('%s is %s', (url, kind) => {
    expect(localAddressKind(url)).toBe(kind);
  });

  it.each([
    'https://www.example.com/watch',
    'http://8.8.8.8/',
    'http://172.15.255.255/',
    'http://172.32.0.1/',
    'http://192.169.0.1/',
    'http://100.63.255.255/',
    'http://100.128.0.1/',
    'http://169.253.0.1/',
    'http://11.0.0.1/',
    'http://[2001:db8::1]/',
    'http://[2606:4700::1111]/',
    'http://[::ffff:8.8.8.8]/',
    'http://[fbff::1]/',
    'http://localhost.example.com/',
    'http://local.example/',
    'https://cdn.example.local.com/',
    'data:text/plain,hi',
    'not a url',
  ])('%s is public (or no address at all)', (url) => {
    expect(localAddressKind(url)).toBeNull();
  });

  it('takes a host as a URL writes it, and nonsense as no address', () => {
    expect(hostKind('[::1]')).toBe('loopback');
    expect(hostKind('[1:2:3]')).toBeNull();
    expect(hostKind('[::1::2]')).toBeNull();
    expect(hostKind('')).toBeNull();
  });
});

describe('isPublicPage and siteOf', () => {
  it('a page is public when it is http(s) on a host that is not local', () => {
    expect(isPublicPage('https://public.example/watch?v=1')).toBe(true);
    expect(isPublicPage('http://93.184.215.14/')).toBe(true);
    expect(isPublicPage('http://127.0.0.1:4000/watch')).toBe(false);
    expect(isPublicPage('http://nas.local/')).toBe(false);
    expect(isPublicPage('file:///home/me/page.html')).toBe(false);
    expect(isPublicPage('chrome-extension://abc/popup.html')).toBe(false);
  });
  it('the site is the host name, lowercase, without port or trailing dot', () => {
    expect(siteOf('https://Videos.Example.COM.:8443/a')).toBe('videos.example.com');
    expect(siteOf('http://[2001:db8::1]:80/')).toBe('[2001:db8::1]');
  });
});

describe('privateNetworkGuard', () => {
  const attempt = (url: string) => ({ url, method: 'GET', signal: undefined });

  it('for a public page: refuses a local address before the request, naming it and how to allow the site', () => {
    const guard = privateNetworkGuard('https://public.example/watch', [], 'page')!;
    expect(() => guard.beforeAttempt!(attempt('https://cdn.example/a.mp4'))).not.toThrow();
    let thrown: unknown;
    try {
      guard.beforeAttempt!(attempt('http://192.168.1.1:8080/a.mp4?sig=secret'));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ProviderError); // in the provider's words: never reworded
    expect(thrown).toMatchObject({ code: 'forbidden', provider: 'page', privateNetworkSite: 'public.example' });
    const message = (thrown as Error).message;
    expect(message).toContain('192.168.1.1:8080, an address on your local network');
    expect(message).toContain('“Allow public.example to use local addresses”');
    expect(message).not.toContain('secret');
  });

  it('refuses an answer a redirect brought from a local address', () => {
    const guard = privateNetworkGuard('https://public.example/watch', [], 'page')!;
    const head = { status: 200, headers: new Headers(), url: 'https://cdn.example/go' };
    expect(() => guard.afterResponse!(attempt(head.url), head)).not.toThrow();
    expect(() => guard.afterResponse!(attempt(head.url), { ...head, redirectedTo: 'http://[::1]/x' })).toThrow(/\[::1\], an address of this computer/);
  });

  it('nothing to guard for a page that is itself local, or a site the user allowed', () => {
    expect(privateNetworkGuard('http://127.0.0.1:4000/watch', [], 'page')).toBeNull();
    expect(privateNetworkGuard('http://router.lan/', [], 'page')).toBeNull();
    expect(privateNetworkGuard('https://public.example/watch', ['public.example'], 'page')).toBeNull();
    expect(privateNetworkGuard('https://www.public.example/watch', ['public.example'], 'page')).not.toBeNull();
  });
});
