import { describe, expect, it } from 'vitest';
import { assertSafeBaseUrl, keyHeaders } from './auth';

const KEY = 'vpk_live_0123456789abcdefWXYZ';

describe('keyHeaders', () => {
  it('sends the key to its own origin', () => {
    expect(keyHeaders('https://api.vidpickr.com/v1/info?url=x', 'https://api.vidpickr.com/v1', 'X-API-Key', KEY, 'vidpickr')).toEqual({ 'X-API-Key': KEY });
    expect(keyHeaders('http://127.0.0.1:4000/v1/info', 'http://127.0.0.1:4000/v1', 'X-API-Key', KEY, 'vidpickr')).toEqual({ 'X-API-Key': KEY });
  });
  it('never to another origin (a media CDN, a redirect target, another port), and says so masked', () => {
    for (const url of ['https://cdn.example.com/v.mp4', 'https://api.vidpickr.com.evil.com/v1/x', 'https://api.vidpickr.com:8443/v1/x', 'http://api.vidpickr.com/v1/x']) {
      expect(() => keyHeaders(url, 'https://api.vidpickr.com/v1', 'X-API-Key', KEY, 'vidpickr')).toThrow(/Refusing to send the vidpickr key \(vpk_live_\.\.\.WXYZ\)/);
    }
  });
  it('needs a key', () => {
    expect(() => keyHeaders('https://api.vidpickr.com/v1/x', 'https://api.vidpickr.com/v1', 'X-API-Key', null, 'vidpickr')).toThrow(/No vidpickr API key/);
  });
});

describe('assertSafeBaseUrl', () => {
  it('allows https anywhere and http only on loopback', () => {
    expect(assertSafeBaseUrl('https://proxy.example.com/vp', 'vidpickr').host).toBe('proxy.example.com');
    expect(assertSafeBaseUrl('http://localhost:8080', 'vidpickr').port).toBe('8080');
    expect(assertSafeBaseUrl('http://[::1]:8080', 'vidpickr').port).toBe('8080');
    expect(() => assertSafeBaseUrl('http://192.168.1.10:8080', 'vidpickr')).toThrow(/must use https/);
    expect(() => assertSafeBaseUrl('not a url', 'vidpickr')).toThrow(/not a URL/);
  });
});
