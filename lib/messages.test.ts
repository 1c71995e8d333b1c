import { describe, expect, it } from 'vitest';
import { VidmuxError } from './errors';
import { dispatch, makeMessage, parseMessage, parseResponse, ProtocolError, RemoteError, type Handlers } from './messages';

const media = { id: 'v1', kind: 'file', src: 'https://a.com/x.mp4', mimeType: null, width: 1, height: 1, duration: null };
const page = { title: 't', url: 'https://a.com/' };
const sender = { tabId: 3, fromExtensionPage: false };

describe('parseMessage', () => {
  it('accepts a valid message', () => {
    expect(parseMessage(makeMessage('tab.state', { tabId: 1 }))).toEqual({ type: 'tab.state', payload: { tabId: 1 } });
  });
  it.each([
    [null, /Malformed/],
    ['x', /Malformed/],
    [{ type: 'steal.keys', payload: {} }, /Unknown message type "steal.keys"/],
    [{ type: '__proto__', payload: {} }, /Unknown message type/],
    [{ type: 'tab.state', payload: { tabId: 'one' } }, /Invalid "tab.state"/],
    [{ type: 'download.start', payload: { page, media: { ...media, kind: 'magic' } } }, /Invalid "download.start"/],
    [{ type: 'download.start', payload: { page, media, choice: { quality: '9000' } } }, /Invalid "download.start"/],
  ])('rejects %j', (raw, reason) => {
    expect(() => parseMessage(raw)).toThrow(reason);
  });
});

describe('dispatch', () => {
  const handlers: Handlers = {
    'tab.state': ({ tabId }) => ({ page: null, media: [], jobs: tabId === 1 ? [] : [], history: [], providerPage: false }),
    'download.cancel': () => {
      throw new VidmuxError('forbidden', 'No.');
    },
  };
  it('answers with the handler value in an ok envelope', async () => {
    expect(await dispatch(handlers, makeMessage('tab.state', { tabId: 1 }), sender)).toEqual({ ok: true, value: { page: null, media: [], jobs: [], history: [], providerPage: false } });
  });
  it('turns thrown errors, unknown and unhandled messages into error envelopes', async () => {
    expect(await dispatch(handlers, makeMessage('download.cancel', { jobId: 'x' }), sender)).toEqual({ ok: false, error: { code: 'forbidden', message: 'No.' } });
    expect(await dispatch(handlers, { type: 'nope' }, sender)).toMatchObject({ ok: false, error: { code: 'bad_message' } });
    expect(await dispatch(handlers, makeMessage('media.found', { page, media: [] }), sender)).toMatchObject({ ok: false, error: { message: /not handled here/ } });
  });
});

describe('parseResponse', () => {
  it('returns the value, throws the remote error, rejects malformed answers', () => {
    expect(parseResponse('media.found', { ok: true, value: {} })).toEqual({});
    expect(() => parseResponse('media.found', { ok: false, error: { code: 'x', message: 'boom' } })).toThrow(RemoteError);
    expect(() => parseResponse('tab.state', { ok: true, value: { media: 'no' } })).toThrow(ProtocolError);
    expect(() => parseResponse('tab.state', undefined)).toThrow(/No valid answer/);
  });
});
