/**
 * Notices the HLS/DASH manifests a page's player loads, from the page's resource timing entries:
 * no network permission needed, and it sees requests made before the content script ran.
 */
import { manifestKind } from '../sites';

/** Watches resource loads; `all()` lists the manifest URLs loaded, oldest first. */
export class ManifestSniffer {
  private urls: string[] = [];

  /** Stops watching when `signal` aborts. */
  constructor(onChange: () => void, signal?: AbortSignal) {
    const take = (entries: PerformanceEntryList) => {
      let changed = false;
      for (const e of entries) {
        if (!manifestKind(new URL(e.name, location.href).href) || this.urls.includes(e.name)) continue;
        this.urls.push(e.name);
        changed = true;
      }
      if (changed) onChange();
    };
    take(performance.getEntriesByType('resource'));
    try {
      const observer = new PerformanceObserver((list) => take(list.getEntries()));
      observer.observe({ type: 'resource', buffered: true });
      signal?.addEventListener('abort', () => observer.disconnect(), { once: true });
    } catch {
      /* no resource timing: nothing to sniff */
    }
  }

  /** Every manifest seen, oldest first (the newest `max`). */
  all(max = 16): string[] {
    return this.urls.slice(-max);
  }
}
