/**
 * The one protocol between extension contexts. Every request names its `type`; its payload and its
 * response each have a zod schema, and the table says who may send it (`from`). Receivers parse
 * every incoming message, reject unknown ones and ones from a sender the table does not name
 * ({@link dispatch}); senders parse every response. Responses travel in an envelope:
 * `{ ok: true, value }` or `{ ok: false, error }`, so errors cross contexts as data.
 */
import { z } from 'zod';
import { AttemptSchema, WireErrorSchema, type WireError } from './schemas/error';
import { KeyedProviderSchema } from './schemas/ids';
import { JobSchema } from './schemas/job';
import { MediaCandidateSchema, MediaInfoSchema, PageSchema } from './schemas/media';
import { DownloadRequestSchema } from './schemas/request';
import { EngineEventSchema, JobSpecSchema, ReelSpecSchema } from './schemas/job-spec';
import { ReelOptionsSchema } from './schemas/reel';

/**
 * Who sends a message: a content script in a web page (`tab`, never trusted with more than its own
 * tab), an extension page (`page`: popup, options), the engine (`engine`: Chrome's offscreen
 * document) or the background itself (`background`).
 */
export type SenderKind = 'tab' | 'page' | 'engine' | 'background';

const TAB = ['tab'] as const;
const PAGE = ['page'] as const;
const TAB_OR_PAGE = ['tab', 'page'] as const;
const ENGINE = ['engine'] as const;
const BACKGROUND = ['background'] as const;

/** Request payload and response schemas, and who may send each, keyed by message type. */
export const protocol = {
  /** content -> background: the media on this tab changed. */
  'media.found': {
    from: TAB,
    request: z.object({ page: PageSchema, media: z.array(MediaCandidateSchema).max(200) }),
    response: z.object({}),
  },
  /** content or popup -> background: save this media / this page / this link, as chosen. */
  'download.start': {
    from: TAB_OR_PAGE,
    request: DownloadRequestSchema,
    response: z.object({ job: JobSchema }),
  },
  /** popup -> background: what the providers offer for a URL (the format picker). */
  'formats.resolve': {
    from: PAGE,
    /** `media`: a video of the page (a stream's renditions are the page provider's formats for it). */
    request: z.object({ url: z.string().url().max(8192), media: MediaCandidateSchema.nullable().default(null) }),
    response: z.object({ info: MediaInfoSchema, attempts: z.array(AttemptSchema) }),
  },
  /**
   * reel page -> background: make a VIDIO highlight reel of these videos (already in the engine's
   * input store, in order); it runs and is saved like any download.
   */
  'reel.start': {
    from: PAGE,
    request: z.object({ inputs: ReelSpecSchema.shape.inputs, options: ReelOptionsSchema }),
    response: z.object({ job: JobSchema }),
  },
  /** popup -> background: run a failed or cancelled job again, as it was asked. */
  'download.retry': {
    from: PAGE,
    request: z.object({ jobId: z.string() }),
    response: z.object({ job: JobSchema }),
  },
  /**
   * popup -> background: the site of a page on the internet that was refused a local address for
   * this failed job (`error.privateNetworkSite`) may use local addresses from now on (settings);
   * the job runs again. Only that site, only from a job refused for it.
   */
  'privateNetwork.allow': {
    from: PAGE,
    request: z.object({ jobId: z.string().max(100) }),
    response: z.object({ job: JobSchema }),
  },
  /** popup -> background: show a saved file in its folder. */
  'download.show': {
    from: PAGE,
    request: z.object({ jobId: z.string() }),
    response: z.object({}),
  },
  /** popup -> background: forget finished downloads. */
  'history.clear': {
    from: PAGE,
    request: z.object({}),
    response: z.object({}),
  },
  /** content -> background: open the options page (e.g. to add a key). */
  'options.open': {
    from: TAB_OR_PAGE,
    request: z.object({}),
    response: z.object({}),
  },
  /** popup -> background: what was found on a tab and its downloads. */
  'tab.state': {
    from: PAGE,
    request: z.object({ tabId: z.number().int() }),
    response: z.object({
      page: PageSchema.nullable(),
      media: z.array(MediaCandidateSchema),
      jobs: z.array(JobSchema),
      /** Finished downloads of every tab, newest first. */
      history: z.array(JobSchema),
      /** Whether a provider with a key handles this page (then the picker asks the providers). */
      providerPage: z.boolean(),
    }),
  },
  /** popup -> background: stop a download. */
  'download.cancel': {
    from: PAGE,
    request: z.object({ jobId: z.string() }),
    response: z.object({ job: JobSchema.nullable() }),
  },
  /**
   * tab (the button that started it) or popup -> background: finish a recording (a live stream):
   * what was recorded so far is saved. A tab may finish only its own tab's jobs.
   */
  'download.finish': {
    from: TAB_OR_PAGE,
    request: z.object({ jobId: z.string().max(100) }),
    response: z.object({ job: JobSchema.nullable() }),
  },
  /** popup -> background: run an interrupted job again; it continues from what is on disk. */
  'download.resume': {
    from: PAGE,
    request: z.object({ jobId: z.string().max(100) }),
    response: z.object({ job: JobSchema }),
  },
  /** popup -> background: drop an interrupted job and its partial files. */
  'download.discard': {
    from: PAGE,
    request: z.object({ jobId: z.string().max(100) }),
    response: z.object({}),
  },
  /**
   * popup or reel page -> background: the result a waiting job should go on with (one of the
   * reels VIDIO proposed, by its index in `progress.choices`).
   */
  'download.choose': {
    from: PAGE,
    request: z.object({ jobId: z.string().max(100), index: z.number().int().nonnegative().max(100) }),
    response: z.object({ job: JobSchema.nullable() }),
  },
  /** background -> offscreen: the choice a waiting job goes on with. */
  'engine.choose': {
    from: BACKGROUND,
    request: z.object({ jobId: z.string(), index: z.number().int().nonnegative() }),
    response: z.object({}),
  },
  /** background -> offscreen: finish a recording; the job then ends as usual (ready, or failed). */
  'engine.finish': {
    from: BACKGROUND,
    request: z.object({ jobId: z.string() }),
    response: z.object({}),
  },
  /** background -> offscreen: make this file (network + media engine into OPFS). */
  'engine.start': {
    from: BACKGROUND,
    request: z.object({ spec: JobSpecSchema }),
    response: z.object({}),
  },
  /** background -> offscreen: stop a job. */
  'engine.cancel': {
    from: BACKGROUND,
    request: z.object({ jobId: z.string() }),
    response: z.object({}),
  },
  /**
   * background -> offscreen: the browser has the file (or gave up): free its blob URL and OPFS
   * file. `keepAs`: keep the main file instead, as that reel input (a highlight reel may be made of it).
   */
  'engine.release': {
    from: BACKGROUND,
    request: z.object({ jobId: z.string(), keepAs: z.string().regex(/^saved-[\w-]{1,70}$/).optional() }),
    response: z.object({}),
  },
  /**
   * background -> offscreen: open the service worker's save `token` in a hidden frame, so its
   * answer becomes the browser's download of a job's file while it is written (Chrome).
   */
  'engine.openSave': {
    from: BACKGROUND,
    request: z.object({ token: z.string().uuid() }),
    response: z.object({}),
  },
  /** offscreen -> background: progress, then ready or failed, of a job. */
  'engine.event': {
    from: ENGINE,
    request: z.object({ jobId: z.string(), event: EngineEventSchema }),
    response: z.object({}),
  },
  /** options -> background: every provider with its masked key. Keys themselves never leave the background. */
  'keys.list': {
    from: PAGE,
    request: z.object({}),
    response: z.object({ keys: z.array(z.object({ provider: KeyedProviderSchema, masked: z.string().nullable() })) }),
  },
  /** options -> background: store a key. */
  'keys.set': {
    from: PAGE,
    request: z.object({ provider: KeyedProviderSchema, key: z.string().max(600) }),
    response: z.object({ masked: z.string() }),
  },
  /** options -> background: forget a key. */
  'keys.remove': {
    from: PAGE,
    request: z.object({ provider: KeyedProviderSchema }),
    response: z.object({}),
  },
  /** options -> background: check a key with its provider and report the account or usage. */
  'keys.test': {
    from: PAGE,
    request: z.object({ provider: KeyedProviderSchema }),
    response: z.object({ summary: z.string(), details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])) }),
  },
  /** options -> background: Tornado custom storage, described with secrets masked (null: not set). */
  'storage.get': {
    from: PAGE,
    request: z.object({}),
    response: z.object({ summary: z.string().nullable() }),
  },
  /** options -> background: set Tornado custom storage (validated against Tornado's rules). */
  'storage.set': {
    from: PAGE,
    request: z.object({ config: z.record(z.string(), z.unknown()) }),
    response: z.object({ summary: z.string() }),
  },
  /** options -> background: forget Tornado custom storage. */
  'storage.remove': {
    from: PAGE,
    request: z.object({}),
    response: z.object({}),
  },
  /** background -> content and extension pages: a job changed (pushed: pages never poll). */
  'job.update': {
    from: BACKGROUND,
    request: z.object({ job: JobSchema }),
    response: z.object({}),
  },
  /** background -> extension pages: what was found on a tab changed, or the history was cleared. */
  'tab.changed': {
    from: BACKGROUND,
    request: z.object({ tabId: z.number().int().nullable() }),
    response: z.object({}),
  },
} as const satisfies Record<string, { from: readonly SenderKind[]; request: z.ZodType; response: z.ZodType }>;

export type Protocol = typeof protocol;
export type MessageType = keyof Protocol;
/** What a sender writes (defaults may be left out). */
export type Request<T extends MessageType> = z.input<Protocol[T]['request']>;
/** What a handler receives (parsed, defaults filled in). */
export type Payload<T extends MessageType> = z.infer<Protocol[T]['request']>;
export type Response<T extends MessageType> = z.infer<Protocol[T]['response']>;

const EnvelopeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: WireErrorSchema }),
]);
export type Envelope = z.infer<typeof EnvelopeSchema>;

const WireMessageSchema = z.object({ type: z.string(), payload: z.unknown() });

/** Builds the wire form of a request. */
export function makeMessage<T extends MessageType>(type: T, payload: Request<T>): { type: T; payload: Request<T> } {
  return { type, payload };
}

/** A parsed incoming request: its type and validated payload. */
export type ParsedMessage = { [T in MessageType]: { type: T; payload: Payload<T> } }[MessageType];

/** Parses an incoming message; throws a clear error for unknown types or bad payloads. */
export function parseMessage(raw: unknown): ParsedMessage {
  const wire = WireMessageSchema.safeParse(raw);
  if (!wire.success) throw new ProtocolError('Malformed message.');
  const type = wire.data.type;
  if (!Object.hasOwn(protocol, type)) throw new ProtocolError(`Unknown message type "${type.slice(0, 40)}".`);
  const schema = protocol[type as MessageType].request;
  const payload = schema.safeParse(wire.data.payload);
  if (!payload.success) throw new ProtocolError(`Invalid "${type}" message: ${payload.error.issues[0]?.message ?? 'bad payload'}.`);
  return { type, payload: payload.data } as ParsedMessage;
}

/** Parses a response envelope for a request of `type`; returns the value or throws its error. */
export function parseResponse<T extends MessageType>(type: T, raw: unknown): Response<T> {
  const env = EnvelopeSchema.safeParse(raw);
  if (!env.success) throw new ProtocolError(`No valid answer to "${type}".`);
  if (!env.data.ok) throw new RemoteError(env.data.error);
  const value = protocol[type].response.safeParse(env.data.value);
  if (!value.success) throw new ProtocolError(`Invalid answer to "${type}".`);
  return value.data as Response<T>;
}

/** What the browser says of a message's sender (runtime.MessageSender, as far as it matters here). */
export interface RuntimeSender {
  id?: string;
  tab?: { id?: number };
  frameId?: number;
  url?: string;
}

/**
 * Who sent a message, from what the browser says and who we are (our extension id and origin),
 * or null when it is not ours (another extension, a web page): content scripts report their
 * page's URL, our own contexts our origin; the engine is the offscreen document, the background
 * Chrome's service worker or Firefox's generated background page.
 */
export function classifySender(sender: RuntimeSender, self: { id: string; origin: string }): SenderKind | null {
  if (!sender.id || sender.id !== self.id) return null;
  const url = sender.url ?? '';
  if (!url.startsWith(self.origin)) return 'tab';
  const path = url.slice(self.origin.length).replace(/^\//, '').split(/[?#]/)[0];
  if (path === 'offscreen.html') return 'engine';
  if (path === 'background.js' || path === '_generated_background_page.html' || path === 'background.html') return 'background';
  return 'page';
}

/** What the sender of a message is, as far as handlers need to know. */
export interface SenderInfo {
  kind: SenderKind;
  /** The sender's tab: a content script's own tab (an extension page opened in a tab has one too). */
  tabId: number | null;
  /** A content script's frame in its tab (0: the top frame); absent when not from a tab's frame. */
  frameId?: number;
}

/** A handler per message type. Handlers may throw; the dispatcher turns that into an error envelope. */
export type Handlers = {
  [T in MessageType]?: (payload: Payload<T>, sender: SenderInfo) => Promise<Response<T>> | Response<T>;
};

/** Dispatches a raw message to its handler and always resolves to an envelope. */
export async function dispatch(handlers: Handlers, raw: unknown, sender: SenderInfo): Promise<Envelope> {
  try {
    const msg = parseMessage(raw);
    const allowed: readonly SenderKind[] = protocol[msg.type].from;
    if (!allowed.includes(sender.kind)) throw new ProtocolError(`"${msg.type}" may not be sent from ${SENDER_NAMES[sender.kind]}.`, 'forbidden');
    const handler = handlers[msg.type] as ((p: unknown, s: SenderInfo) => unknown) | undefined;
    if (!handler) throw new ProtocolError(`"${msg.type}" is not handled here.`);
    const value = await handler(msg.payload, sender);
    return { ok: true, value };
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    return {
      ok: false,
      error: {
        code: typeof e?.code === 'string' ? e.code : 'internal',
        message: typeof e?.message === 'string' ? e.message : String(err),
      },
    };
  }
}

const SENDER_NAMES: Record<SenderKind, string> = { tab: 'a web page', page: 'an extension page', engine: 'the engine', background: 'the background' };

/** A message that did not fit the protocol, or came from a sender it does not allow. */
export class ProtocolError extends Error {
  readonly code: 'bad_message' | 'forbidden';
  override readonly name = 'ProtocolError';
  constructor(message: string, code: 'bad_message' | 'forbidden' = 'bad_message') {
    super(message);
    this.code = code;
  }
}

/** An error the other side answered with. */
export class RemoteError extends Error {
  readonly code: string;
  override readonly name = 'RemoteError';
  constructor(error: WireError) {
    super(error.message);
    this.code = error.code;
  }
}
