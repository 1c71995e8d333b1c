/**
 * The memory and CPU of a Chromium process tree, read from /proc on a worker thread.
 *
 * Why a thread: one sample (the tree from every /proc/<pid>/stat, then each process's
 * smaps_rollup) takes about 40 ms of synchronous reads, and the bench's stream server shares the
 * bench's event loop: sampling every 200 ms there froze the server 16% of the time during our
 * saves and never during the baseline's, which made our saves look slower than they were.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

type Op = 'pss' | 'cpu';
interface Ask {
  id: number;
  op: Op;
}

/** The process tree of the Chromium that uses `userDataDir`, measured off the caller's thread. */
export class ProcSampler {
  private readonly worker: Worker;
  private next = 0;
  /** Milliseconds the samples took so far (the CPU this costs the machine the browser runs on). */
  busyMs = 0;
  private readonly waiting = new Map<number, (m: Map<string, number>) => void>();

  constructor(userDataDir: string) {
    // The bench runs under tsx, which a worker thread does not inherit: register it, then load this file.
    const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    this.worker = new Worker(boot, { eval: true, workerData: { procSampler: userDataDir } });
    this.worker.on('message', ({ id, entries, ms }: { id: number; entries: Array<[string, number]>; ms: number }) => {
      this.busyMs += ms;
      this.waiting.get(id)?.(new Map(entries));
      this.waiting.delete(id);
    });
  }

  /** Each kind's PSS now (MB): shared pages counted once. */
  pss(): Promise<Map<string, number>> {
    return this.ask('pss');
  }

  /** Each kind's CPU seconds so far. */
  cpu(): Promise<Map<string, number>> {
    return this.ask('cpu');
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private ask(op: Op): Promise<Map<string, number>> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.worker.postMessage({ id, op } satisfies Ask);
    });
  }
}

/** Every process of the Chromium that uses `userDataDir`: the browser and its descendants. */
function chromiumTree(userDataDir: string): number[] {
  const parents = new Map<number, number>();
  let root = -1;
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parents.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      if (root < 0) {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmd.includes(`--user-data-dir=${userDataDir}`) && !cmd.includes('--type=')) root = pid;
      }
    } catch {
      // gone meanwhile
    }
  }
  if (root < 0) return [];
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

/** What a Chromium process is, from its command line: browser, extension renderer, page renderer, network... */
function kindOf(pid: number): string {
  const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  const type = /--type=([a-z-]+)/.exec(cmd)?.[1] ?? 'browser';
  const sub = /--utility-sub-type=([\w.]+)/.exec(cmd)?.[1]?.split('.').pop();
  return type === 'renderer' ? (cmd.includes('--extension-process') ? 'extension renderer' : 'page renderer') : sub ? `${type} (${sub})` : type;
}

/** PSS in MB of a process tree by kind (shared pages split among their sharers: the tree's real cost). */
function pssByKind(pids: number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      const kind = kindOf(pid);
      if (m) out.set(kind, (out.get(kind) ?? 0) + Number(m[1]) / 1024);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Resident MB of a process tree, all told (shared pages counted by every sharer). */
function rssMb(pids: number[]): number {
  let pages = 0;
  for (const pid of pids) {
    try {
      pages += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    } catch {
      // gone meanwhile
    }
  }
  return (pages * 4096) / 1e6;
}

/** CPU seconds so far of each process of the tree, by kind. */
function cpuByKind(pids: number[]): Map<string, number> {
  const tick = 100; // USER_HZ on Linux
  const out = new Map<string, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const kind = kindOf(pid);
      out.set(kind, (out.get(kind) ?? 0) + (Number(f[11]) + Number(f[12])) / tick);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

if (!isMainThread && (workerData as { procSampler?: string } | null)?.procSampler) {
  const userDataDir = (workerData as { procSampler: string }).procSampler;
  // Reading PSS (smaps_rollup walks every mapping of a process) took 45 ms or more a sample, a
  // quarter of a core at 5 samples a second, taken from the two cores the browser runs on. So:
  // the tree (a read of every process's stat) is found again at most every 2 s, and PSS is read
  // again when the tree's RSS (statm: a counter, cheap) reaches a new high, at most twice a
  // second (while it climbs), and otherwise once a second.
  let tree: number[] = [];
  let found = -Infinity;
  let pss = new Map<string, number>();
  let pssAt = -Infinity;
  let highRss = 0;
  parentPort!.on('message', ({ id, op }: Ask) => {
    const t0 = performance.now();
    if (t0 - found > 2000 || !tree.length) {
      tree = chromiumTree(userDataDir);
      found = t0;
    }
    let m: Map<string, number>;
    if (op === 'cpu') m = cpuByKind(tree);
    else {
      const rss = rssMb(tree);
      if ((rss > highRss + 2 && t0 - pssAt >= 500) || t0 - pssAt >= 1000) {
        pss = pssByKind(tree);
        pssAt = t0;
        highRss = Math.max(highRss, rss);
      }
      m = pss;
    }
    parentPort!.postMessage({ id, entries: [...m], ms: performance.now() - t0 });
  });
}
