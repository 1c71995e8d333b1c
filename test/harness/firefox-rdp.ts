/**
 * A minimal client of Firefox's Remote Debugging Protocol (the devtools protocol about:debugging and
 * web-ext use). WebDriver BiDi in Firefox hides every extension context (Bug 1755014: no navigation
 * to moz-extension://, no scripts in extension pages), so the Firefox harness reaches the
 * extension's background page and pages through this: a watcher on the add-on reports one "frame"
 * target per extension document, and each target's console actor evaluates script there.
 *
 * The same connection also reaches the parent (browser) process ({@link parentProcessConsole}),
 * where system-privileged script does what no web or extension API can: send trusted mouse input
 * into an extension page, resize one tab's viewport, draw a tab's snapshot.
 *
 * Packets are `<byte length>:<json>`. Replies carry no `type` and come back in order per actor;
 * packets with a `type` are events.
 */
import { connect, type Socket } from 'node:net';

export type Packet = Record<string, any>;

/** Marks a rejection's reason in an evaluation's result (see {@link Rdp.evaluate}). */
const REJECTED = '\u0000rdp-rejected:';

export interface RdpTarget {
  actor: string;
  consoleActor: string;
  url: string;
  /** The document's BrowsingContext id (the parent process finds its tab by it). */
  browsingContextID: number;
}

export class Rdp {
  private buf = Buffer.alloc(0);
  private readonly waiting = new Map<string, Array<{ resolve: (p: Packet) => void; reject: (e: Error) => void }>>();
  private readonly results = new Map<string, (p: Packet) => void>();
  private readonly early = new Map<string, Packet>();
  private readonly listeners: Array<(p: Packet) => void> = [];

  private constructor(private readonly sock: Socket) {
    sock.on('data', (d) => this.onData(d));
    sock.on('error', () => {});
  }

  /** Connects to `--start-debugger-server <port>`, retrying while Firefox starts it. */
  static async open(port: number, timeoutMs = 15_000): Promise<Rdp> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise<Socket>((res, rej) => {
          const s = connect(port, '127.0.0.1', () => res(s));
          s.once('error', rej);
        });
        const rdp = new Rdp(sock);
        await rdp.expect('root');
        return rdp;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  on(listener: (p: Packet) => void): void {
    this.listeners.push(listener);
  }

  request(to: string, type: string, extra: Packet = {}): Promise<Packet> {
    const reply = this.expect(to);
    const s = JSON.stringify({ to, type, ...extra });
    this.sock.write(`${Buffer.byteLength(s)}:${s}`);
    return reply;
  }

  /**
   * Evaluates an expression with a console actor and returns its value; a promise is awaited.
   * Non-primitive results come back as grips: return `JSON.stringify(...)` and parse it.
   */
  async evaluate(consoleActor: string, expression: string): Promise<unknown> {
    // With `mapped.await` the console awaits the promise the (already wrapped) text returns. A
    // rejected promise comes back only as `topLevelAwaitRejected`, without its reason: the wrapper
    // catches it and returns the reason behind a marker instead.
    const text = `(async () => { try { return await (${expression}); } catch (e) { return ${JSON.stringify(REJECTED)} + String(e) + (e && e.stack ? '\\n' + e.stack : ''); } })()`;
    const { resultID } = await this.request(consoleActor, 'evaluateJSAsync', { text, mapped: { await: true } });
    const p = this.early.get(resultID) ?? (await new Promise<Packet>((res) => this.results.set(resultID, res)));
    this.early.delete(resultID);
    if (p.hasException || p.exceptionMessage || p.topLevelAwaitRejected) {
      throw new Error(`Evaluation failed: ${p.exceptionMessage ?? JSON.stringify(p.exception ?? 'rejected')}\n  in: ${expression}`);
    }
    const value = await this.value(p.result);
    if (typeof value === 'string' && value.startsWith(REJECTED)) throw new Error(`Evaluation failed: ${value.slice(REJECTED.length)}\n  in: ${expression}`);
    return value;
  }

  close(): void {
    this.sock.end();
  }

  private expect(actor: string): Promise<Packet> {
    return new Promise((resolve, reject) => {
      const q = this.waiting.get(actor) ?? [];
      q.push({ resolve, reject });
      this.waiting.set(actor, q);
    });
  }

  private async value(grip: any): Promise<unknown> {
    if (grip === null || typeof grip !== 'object') return grip;
    if (grip.type === 'undefined') return undefined;
    if (grip.type === 'null') return null;
    if (grip.type === 'longString') return (await this.request(grip.actor, 'substring', { start: 0, end: grip.length })).substring;
    return grip;
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const sep = this.buf.indexOf(':');
      if (sep < 1) return;
      const len = Number(this.buf.subarray(0, sep).toString());
      if (this.buf.length < sep + 1 + len) return;
      const packet = JSON.parse(this.buf.subarray(sep + 1, sep + 1 + len).toString()) as Packet;
      this.buf = this.buf.subarray(sep + 1 + len);
      this.onPacket(packet);
    }
  }

  private onPacket(p: Packet): void {
    if (p.type === 'evaluationResult') {
      const done = this.results.get(p.resultID);
      if (done) {
        this.results.delete(p.resultID);
        done(p);
      } else this.early.set(p.resultID, p);
      return;
    }
    if (typeof p.type === 'string' && !p.error) {
      for (const l of this.listeners) l(p);
      return;
    }
    const w = this.waiting.get(p.from)?.shift();
    if (!w) return;
    if (p.error) w.reject(new Error(`RDP ${p.error}: ${p.message ?? ''}`));
    else w.resolve(p);
  }
}

/**
 * Watches an installed add-on's documents (background page, and every extension page a tab shows).
 * Returns the live target list, keyed by actor.
 */
export async function watchAddon(rdp: Rdp, addonId: string): Promise<{ targets: Map<string, RdpTarget>; manifestURL: string }> {
  const { addons } = await rdp.request('root', 'listAddons');
  const addon = (addons as Packet[]).find((a) => a.id === addonId);
  if (!addon) throw new Error(`Add-on ${addonId} is not installed (have: ${(addons as Packet[]).map((a) => a.id).join(', ')})`);
  const targets = new Map<string, RdpTarget>();
  rdp.on((p) => {
    if (p.type === 'target-available-form') targets.set(p.target.actor, p.target);
    if (p.type === 'target-destroyed-form') targets.delete(p.target.actor);
  });
  const watcher = await rdp.request(addon.actor, 'getWatcher', { isServerTargetSwitchingEnabled: true });
  await rdp.request(watcher.actor, 'watchTargets', { targetType: 'frame' });
  return { targets, manifestURL: addon.manifestURL };
}

/**
 * The console actor of the parent (browser) process: script evaluated there runs with system
 * privileges in Firefox's own JS (Services, BrowsingContext, the browser windows). Needs the prefs
 * `devtools.chrome.enabled` and `devtools.debugger.remote-enabled` (set by the harness).
 *
 * Note that `Node.ownerGlobal` reads as undefined from this console: use
 * `node.ownerDocument.defaultView`.
 */
export async function parentProcessConsole(rdp: Rdp): Promise<string> {
  const { processDescriptor } = await rdp.request('root', 'getProcess', { id: 0 });
  const target = await rdp.request(processDescriptor.actor, 'getTarget');
  const consoleActor = (target.process as Packet | undefined)?.consoleActor as string | undefined;
  if (!consoleActor) throw new Error(`No console in the parent process target: ${JSON.stringify(target).slice(0, 300)}`);
  return consoleActor;
}
