/**
 * One forward pass over one input feeding both of its tracks: an HLS segment (MPEG-TS or fragmented
 * MP4) carries video and audio interleaved, and reading it once for each track would download or
 * read it twice. A producer (the TS demuxer, the fragmented-MP4 reader) reads on whenever a track
 * asks for a packet it doesn't have yet, and pushes every packet it meets onto its track's queue.
 *
 * Memory stays bounded because the consumer (remux) takes packets in decode-time order, which is
 * roughly the order they are stored in: each queue holds about the interleaving distance of the
 * input (well under a second for real streams). A queue that grows past {@link MAX_QUEUED_BYTES}
 * means the other track is not being read (or the input keeps its tracks minutes apart): that
 * fails clearly instead of holding the file in memory.
 *
 * Packet views: a queued packet may be a view into a pooled buffer (the reader's read buffers, the
 * TS demuxer's slabs). The pass holds each such buffer ({@link retainBuffer}) from the push until
 * the track's next `next()` call, so a packet stays valid exactly as the DemuxedTrack contract says.
 */
import { VidmuxError } from '../errors';
import { releaseBuffer, retainBuffer } from './byte-reader';
import type { DemuxedTrack, DemuxedTrackInfo, Packet } from './demux';

export type TrackKind = 'video' | 'audio';

/** Queued bytes of one track beyond which the pass fails (the other track isn't being read). */
export const MAX_QUEUED_BYTES = 64 * 1024 * 1024;

/** What feeds a {@link SharedPass}. */
export interface PassProducer {
  /** Reads on and pushes what it finds; resolves false once the input is exhausted (after its last push). */
  step(): Promise<boolean>;
  /** Stops reading (releases the source). */
  close(): void;
}

/** A FIFO of packets with its byte count. */
class PacketQueue {
  private items: Packet[] = [];
  private head = 0;
  bytes = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(p: Packet): void {
    this.items.push(p);
    this.bytes += p.data.byteLength;
  }
  shift(): Packet {
    const p = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as Packet;
    this.bytes -= p.data.byteLength;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return p;
  }
  drain(): Packet[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    return rest;
  }
}

/** Per-track queues over one producer; see the module comment. */
export class SharedPass {
  private readonly queues = new Map<TrackKind, PacketQueue>();
  /** The packet each track handed out last: held until its next `next()`. */
  private readonly current = new Map<TrackKind, Packet>();
  private producer: PassProducer | null = null;
  private pumping: Promise<void> | null = null;
  private ended = false;
  private closed = false;
  private error: unknown = null;

  constructor(
    kinds: readonly TrackKind[],
    /** The input as error messages name it, e.g. "input". */
    private readonly label: string,
    private readonly maxQueuedBytes = MAX_QUEUED_BYTES,
  ) {
    for (const k of kinds) this.queues.set(k, new PacketQueue());
  }

  /** Sets the producer (which usually needs the pass to exist first). */
  attach(producer: PassProducer): void {
    this.producer = producer;
  }

  /** Whether packets of `kind` are still wanted (not dropped, not closed). */
  wants(kind: TrackKind): boolean {
    return this.queues.has(kind);
  }

  /** Bytes queued for `kind`. */
  queuedBytes(kind: TrackKind): number {
    return this.queues.get(kind)?.bytes ?? 0;
  }

  /** Largest queue, in bytes. */
  get maxQueued(): number {
    let m = 0;
    for (const q of this.queues.values()) m = Math.max(m, q.bytes);
    return m;
  }

  /**
   * Queues a packet of `kind` (ignored when that kind isn't wanted). Throws `unsupported` when the
   * queue outgrows its limit. The packet's bytes must not change afterwards.
   */
  push(kind: TrackKind, p: Packet): void {
    const q = this.queues.get(kind);
    if (!q) return;
    if (q.bytes + p.data.byteLength > this.maxQueuedBytes) {
      const other = kind === 'video' ? 'audio' : 'video';
      throw new VidmuxError(
        'unsupported',
        `The ${this.label} keeps its video and audio too far apart to read both in one pass: more than ${Math.round(this.maxQueuedBytes / 2 ** 20)} MiB of ${kind} waited while the ${other} was read.`,
      );
    }
    retainBuffer(p.data.buffer);
    q.push(p);
  }

  /** Stops queueing `kind` and drops what is queued (a track the caller won't read). */
  drop(kind: TrackKind): void {
    const q = this.queues.get(kind);
    if (!q) return;
    for (const p of q.drain()) releaseBuffer(p.data.buffer);
    this.queues.delete(kind);
    const held = this.current.get(kind);
    if (held) releaseBuffer(held.data.buffer);
    this.current.delete(kind);
    if (this.queues.size === 0) this.close();
  }

  /** Reads on until `done()` holds or the input ends (the TS probe). Rethrows the producer's error. */
  async pumpUntil(done: () => boolean): Promise<void> {
    while (!done() && !this.ended) {
      await this.pumpOnce();
      if (this.error) throw this.error;
    }
  }

  /** Whether the producer has read everything. */
  get exhausted(): boolean {
    return this.ended;
  }

  /** The {@link DemuxedTrack} reading `kind`'s queue. */
  track(kind: TrackKind, info: DemuxedTrackInfo): DemuxedTrack {
    return {
      info,
      next: () => this.next(kind),
      close: () => this.drop(kind),
    };
  }

  /** Stops everything: the producer and every queue. */
  close(): void {
    for (const [kind, q] of [...this.queues]) {
      for (const p of q.drain()) releaseBuffer(p.data.buffer);
      this.queues.delete(kind);
    }
    for (const p of this.current.values()) releaseBuffer(p.data.buffer);
    this.current.clear();
    if (!this.closed) {
      this.closed = true;
      this.producer?.close();
    }
  }

  private next(kind: TrackKind): Packet | null | Promise<Packet | null> {
    const held = this.current.get(kind);
    if (held) {
      this.current.delete(kind);
      releaseBuffer(held.data.buffer);
    }
    if (this.error) throw this.error;
    const q = this.queues.get(kind);
    if (!q) return null;
    if (q.length > 0) return this.handOut(kind, q.shift());
    if (this.ended) return null;
    return this.pumpFor(kind, q);
  }

  private async pumpFor(kind: TrackKind, q: PacketQueue): Promise<Packet | null> {
    for (;;) {
      await this.pumpOnce();
      if (this.error) throw this.error;
      if (q.length > 0) return this.handOut(kind, q.shift());
      if (this.ended || !this.queues.has(kind)) return null;
    }
  }

  private handOut(kind: TrackKind, p: Packet): Packet {
    // The push's hold moves to "current" and is dropped at the next call.
    this.current.set(kind, p);
    return p;
  }

  /** One producer step; concurrent callers share it. */
  private pumpOnce(): Promise<void> {
    if (this.pumping) return this.pumping;
    if (this.ended || this.error || !this.producer) {
      if (!this.producer && !this.ended) this.error = new Error('SharedPass: no producer attached');
      return Promise.resolve();
    }
    this.pumping = this.producer
      .step()
      .then(
        (more) => {
          if (!more) {
            this.ended = true;
            // Every packet is queued: the source can go.
            if (!this.closed) {
              this.closed = true;
              this.producer?.close();
            }
          }
        },
        (err: unknown) => {
          this.error = err;
          this.close();
        },
      )
      .finally(() => {
        this.pumping = null;
      });
    return this.pumping;
  }
}
