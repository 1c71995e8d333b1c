/** What the "Download video" context-menu entry asks for, from what the browser says was clicked. */
import type { DownloadRequestInput } from '../schemas/request';

export interface MenuClick {
  /** The clicked element's source (a `<video>`), if any. */
  srcUrl?: string | undefined;
  /** The clicked link, if any. */
  linkUrl?: string | undefined;
  pageUrl?: string | undefined;
}

/**
 * A link may be a provider's page (YouTube) or a file: its URL is the target. A video plays the
 * page's media: its own URL is the target unless it is a `blob:` (a stream the page assembles,
 * only the page knows what it is), then the page is.
 */
export function contextMenuRequest(click: MenuClick, tab: { title?: string | undefined; url?: string | undefined }): DownloadRequestInput {
  const url = click.srcUrl ?? click.linkUrl;
  const page = { title: tab.title ?? '', url: tab.url ?? click.pageUrl ?? '' };
  const target = url && (click.linkUrl || !/^blob:/.test(url)) ? url : undefined;
  return { page, media: null, ...(target ? { url: target } : {}) };
}
