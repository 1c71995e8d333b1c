import { describe, expect, it } from 'vitest';
import { VidmuxError } from './errors';
import { classifySender, dispatch, makeMessage, parseMessage, parseResponse, protocol, ProtocolError, RemoteError, type Handlers, type MessageType, type Request, type SenderKind } from './messages';

const media = { id: 'v1', kind: 'file', src: 'https://a.com/x.mp4', mimeType: null, width: 1, height: 1, duration: null };
const page = { title: 't', url: 'https://a.com/' };
const sender = { kind: 'page' as const, tabId: null };

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

describe('who may send what', () => {
  /** The policy, written out: a change to the protocol's `from` must be made here too, on purpose. */
  const EXPECTED: Record<MessageType, SenderKind[]> = {
    'media.found': ['tab'],
    'download.start': ['tab', 'page'],
    'options.open': ['tab', 'page'],
    'formats.resolve': ['page'],
    'reel.start': ['page'],
    'download.retry': ['page'],
    'privateNetwork.allow': ['page'],
    'download.show': ['page'],
    'download.cancel': ['page'],
    'download.finish': ['tab', 'page'],
    'download.choose': ['page'],
    'download.resume': ['page'],
    'download.discard': ['page'],
    'history.clear': ['page'],
    'tab.state': ['page'],
    'keys.list': ['page'],
    'keys.set': ['page'],
    'keys.remove': ['page'],
    'keys.test': ['page'],
    'storage.get': ['page'],
    'storage.set': ['page'],
    'storage.remove': ['page'],
    'engine.start': ['background'],
    'engine.cancel': ['background'],
    'engine.finish': ['background'],
    'engine.choose': ['background'],
    'engine.release': ['background'],
    'engine.openSave': ['background'],
    'engine.event': ['engine'],
    'job.update': ['background'],
    'tab.changed': ['background'],
  };
  /** A valid payload of every message type. */
  const job = { id: 'j', tabId: 1, pageUrl: 'https://a.com/', title: 't', filename: 't.mp4', sourceUrl: 'https://a.com/x.mp4', provider: 'page', progress: { stage: 'queued', tracks: {}, overall: { bytesDone: 0, bytesTotal: null, speedBps: 0, etaSeconds: null } }, error: null, file: null, downloadId: null, createdAt: 1, finishedAt: null };
  const SAMPLES: { [T in MessageType]: Request<T> } = {
    'media.found': { page, media: [media as Request<'media.found'>['media'][number]] },
    'download.start': { page, media: media as Request<'download.start'>['media'] },
    'options.open': {},
    'formats.resolve': { url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ' },
    'reel.start': { inputs: [{ id: 'in-1', name: 'match.mp4', size: 1000 }], options: { category: 'ball-sports', lengthSeconds: 15, aspect: 'portrait', music: 'sports' } },
    'download.retry': { jobId: 'j' },
    'privateNetwork.allow': { jobId: 'j' },
    'download.show': { jobId: 'j' },
    'download.cancel': { jobId: 'j' },
    'download.finish': { jobId: 'j' },
    'download.choose': { jobId: 'j', index: 1 },
    'download.resume': { jobId: 'j' },
    'download.discard': { jobId: 'j' },
    'history.clear': {},
    'tab.state': { tabId: 1 },
    'keys.list': {},
    'keys.set': { provider: 'vidpickr', key: 'vpk_live_0000000000000000' },
    'keys.remove': { provider: 'vidpickr' },
    'keys.test': { provider: 'vidpickr' },
    'storage.get': {},
    'storage.set': { config: {} },
    'storage.remove': {},
    'engine.start': { spec: { jobId: 'j', url: 'https://a.com/', wish: { quality: 'best' }, providers: [{ id: 'page', apiKey: null, baseUrl: null }] } },
    'engine.cancel': { jobId: 'j' },
    'engine.finish': { jobId: 'j' },
    'engine.choose': { jobId: 'j', index: 1 },
    'engine.release': { jobId: 'j' },
    'engine.openSave': { token: '0b6c7f1e-3f7a-4c9e-9d2b-2a5f8e1c4d3a' },
    'engine.event': { jobId: 'j', event: { type: 'failed', error: { code: 'x', message: 'y' } } },
    'job.update': { job: job as Request<'job.update'>['job'] },
    'tab.changed': { tabId: 1 },
  };
  const KINDS: SenderKind[] = ['tab', 'page', 'engine', 'background'];

  it('the protocol says who may send each message, as written above', () => {
    expect(Object.fromEntries(Object.entries(protocol).map(([t, p]) => [t, [...p.from].sort()]))).toEqual(Object.fromEntries(Object.entries(EXPECTED).map(([t, f]) => [t, [...f].sort()])));
  });

  for (const type of Object.keys(EXPECTED) as MessageType[]) {
    it(`${type}: reaches its handler only from ${EXPECTED[type].join(' or ')}; everyone else is refused before it runs`, async () => {
      expect(() => parseMessage(makeMessage(type, SAMPLES[type]))).not.toThrow();
      for (const kind of KINDS) {
        let ran = false;
        const handlers = { [type]: () => ((ran = true), {}) } as Handlers;
        const answer = await dispatch(handlers, makeMessage(type, SAMPLES[type]), { kind, tabId: kind === 'tab' ? 7 : null });
        if (EXPECTED[type].includes(kind)) {
          expect(ran, `${kind} may send ${type}`).toBe(true);
        } else {
          expect(ran, `${kind} may not send ${type}`).toBe(false);
          expect(answer).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringContaining(`"${type}" may not be sent from`) } });
        }
      }
    });
  }

  it('a web page (content script) can never read keys, tab state or cancel a download', async () => {
    for (const type of ['keys.list', 'keys.set', 'keys.test', 'tab.state', 'download.cancel', 'engine.event', 'formats.resolve', 'privateNetwork.allow'] as const) {
      const answer = await dispatch({ [type]: () => ({}) } as Handlers, makeMessage(type, SAMPLES[type] as never), { kind: 'tab', tabId: 3 });
      expect(answer, type).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
  });
});

describe('classifySender', () => {
  const self = { id: 'abcdefghijklmnopabcdefghijklmnop', origin: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop/' };
  it('tells our contexts apart by the URL they send from', () => {
    const from = (url: string | undefined, id = self.id) => classifySender({ id, ...(url === undefined ? {} : { url }) }, self);
    expect(from('https://www.youtube.com/watch?v=x')).toBe('tab');
    expect(from(`${self.origin}popup.html?tabId=3`)).toBe('page');
    expect(from(`${self.origin}options.html`)).toBe('page');
    expect(from(`${self.origin}offscreen.html`)).toBe('engine');
    expect(from(`${self.origin}background.js`)).toBe('background');
    expect(classifySender({ id: 'ff', url: 'moz-extension://u/_generated_background_page.html' }, { id: 'ff', origin: 'moz-extension://u/' })).toBe('background');
    // A web page dressing up as ours is still a web page; no URL at all is not trusted either.
    expect(from(`https://evil.example/${self.origin}offscreen.html`)).toBe('tab');
    expect(from(undefined)).toBe('tab');
  });
  it('ignores other extensions and senders without an id', () => {
    expect(classifySender({ id: 'other', url: `${self.origin}popup.html` }, self)).toBeNull();
    expect(classifySender({ url: 'https://a.example/' }, self)).toBeNull();
  });
});
