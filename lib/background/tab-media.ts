/** What the content script of each tab last reported: the page and its videos (for the popup). */
import { z } from 'zod';
import { MediaCandidateSchema, PageSchema, type MediaCandidate, type PageRef } from '../schemas/media';

export interface TabMedia {
  page: PageRef;
  media: MediaCandidate[];
}

const StoredSchema = z.record(z.string(), z.object({ page: PageSchema, media: z.array(MediaCandidateSchema) }));

export class TabMediaRegistry {
  private readonly tabs = new Map<number, TabMedia>();

  set(tabId: number, found: TabMedia): void {
    this.tabs.set(tabId, found);
  }

  get(tabId: number): TabMedia | undefined {
    return this.tabs.get(tabId);
  }

  delete(tabId: number): boolean {
    return this.tabs.delete(tabId);
  }

  toJSON(): Record<string, TabMedia> {
    return Object.fromEntries(this.tabs);
  }

  /** Restores what `toJSON` saved; anything that no longer parses is dropped. */
  fromJSON(raw: unknown): void {
    const parsed = StoredSchema.safeParse(raw ?? {});
    if (!parsed.success) return;
    for (const [id, media] of Object.entries(parsed.data)) if (Number.isInteger(Number(id))) this.tabs.set(Number(id), media);
  }
}
