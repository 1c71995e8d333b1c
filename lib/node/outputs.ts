/**
 * Node's {@link OutputStore}: job outputs are files in one directory under hidden temporary names
 * (each written through {@link NodeFileSink}'s `.part` file, renamed when complete); `publish`
 * hands out the path, and the caller (the CLI) renames the file to its final name.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OutputFile, OutputStore } from '../jobs/outputs';
import { NodeFileSink, ResumableFileSink } from './files';

const PREFIX = '.vidmux-';

export class NodeOutputs implements OutputStore {
  private readonly jobs = new Map<string, Set<string>>();

  /**
   * `dir` holds the outputs (the CLI's --out); `sync` flushes each file before it is renamed;
   * `resume`: part files are {@link ResumableFileSink}s, kept when `keep()` says the run was
   * interrupted, so the same job (the same id) run again continues them.
   */
  constructor(
    readonly dir: string,
    private readonly opts: { sync?: boolean; resume?: { keep(): boolean; onResume?(offset: number, unverified: boolean): void } } = {},
  ) {}

  async create(jobId: string, name: string): Promise<OutputFile> {
    const path = join(this.dir, `${PREFIX}${jobId.replace(/[^\w-]/g, '')}-${name.replace(/[^\w-]/g, '')}`);
    let files = this.jobs.get(jobId);
    if (!files) this.jobs.set(jobId, (files = new Set()));
    files.add(path);
    const resume = this.opts.resume;
    const sink = resume ? new ResumableFileSink(path, { ...resume, ...(this.opts.sync ? { sync: true } : {}) }) : new NodeFileSink(path, this.opts.sync ? { sync: true } : {});
    return {
      sink,
      publish: async () => path,
      discard: async () => {
        files.delete(path);
        await sink.abort();
        await rm(path, { force: true });
      },
    };
  }

  /** Removes what is left of a job's outputs (files the caller did not move away). */
  async release(jobId: string): Promise<void> {
    const files = this.jobs.get(jobId);
    this.jobs.delete(jobId);
    if (this.opts.resume?.keep()) return; // interrupted: the part files wait for the next run
    await Promise.all([...(files ?? [])].flatMap((p) => [rm(p, { force: true }), rm(`${p}.part`, { force: true }), rm(`${p}.part.json`, { force: true })]));
  }

  /** Removes outputs an interrupted earlier run left in the directory. */
  async sweep(): Promise<void> {
    const inUse = new Set([...this.jobs.values()].flatMap((f) => [...f]));
    const names = await readdir(this.dir).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && !inUse.has(join(this.dir, n.replace(/\.part$/, '')))).map((n) => rm(join(this.dir, n), { force: true })));
  }
}
