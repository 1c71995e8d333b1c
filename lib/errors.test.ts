import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_CHARS, maskKey, maskSecrets, toVidmuxError, VidmuxError } from './errors';
import { WireErrorSchema } from './schemas/error';

describe('masking', () => {
  it('masks keys as prefix...last4', () => {
    expect(maskKey('vpk_live_0123456789abcdefABCD')).toBe('vpk_live_...ABCD');
    expect(maskKey('ffsk_' + 'a'.repeat(60) + 'beef')).toBe('ffsk_...beef');
    expect(maskKey('short')).toBe('...');
  });
  it('masks keys inside messages and never keeps them in VidmuxError', () => {
    const key = 'vpk_live_9f8e7d6c5b4a39281706abcd';
    expect(maskSecrets(`401 for key ${key}.`)).toBe('401 for key vpk_live_...abcd.');
    const err = new VidmuxError('unauthorized', `Key ${key} was refused`, { provider: 'vidpickr', status: 401 });
    expect(err.message).not.toContain(key);
    expect(JSON.stringify(err.toJSON())).not.toContain('9f8e7d6c5b4a');
    expect(err.toJSON()).toEqual({ code: 'unauthorized', message: 'Key vpk_live_...abcd was refused', provider: 'vidpickr', status: 401 });
  });
});

describe('toVidmuxError', () => {
  it('keeps VidmuxErrors, maps AbortError to cancelled, wraps the rest', () => {
    const v = new VidmuxError('expired', 'x');
    expect(toVidmuxError(v)).toBe(v);
    expect(toVidmuxError(new DOMException('stop', 'AbortError')).code).toBe('cancelled');
    expect(toVidmuxError(new Error('boom'), 'network')).toMatchObject({ code: 'network', message: 'boom' });
    expect(toVidmuxError('str').message).toBe('str');
  });
});

describe('long messages', () => {
  it('are cut to what a person is shown and the protocol carries, never refused', () => {
    const e = new VidmuxError('http_error', `Tornado said: ${'no such video '.repeat(1000)}`);
    expect(e.message.length).toBe(MAX_MESSAGE_CHARS);
    expect(e.message.endsWith('…')).toBe(true);
    expect(WireErrorSchema.safeParse(e.toJSON()).success).toBe(true);
  });
});
