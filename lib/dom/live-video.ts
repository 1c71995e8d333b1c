/**
 * Whether a `<video>` plays a live stream. Some players say so (`duration` is Infinity); hls.js and
 * others give a live stream the finite duration of what is buffered so far and lengthen it at each
 * playlist reload. A duration that grows again and again while the video plays is therefore live;
 * a video's duration set once (or corrected once) is not. DOM only.
 */
const growth = new WeakMap<HTMLVideoElement, { last: number; grew: number }>();

/** Records a `durationchange` of `video` (the video watcher calls this for every one). */
export function noteDuration(video: HTMLVideoElement): void {
  const d = video.duration;
  if (!Number.isFinite(d)) return;
  const seen = growth.get(video);
  if (!seen) growth.set(video, { last: d, grew: 0 });
  else if (d > seen.last) growth.set(video, { last: d, grew: seen.grew + 1 });
  else growth.set(video, { last: d, grew: d < seen.last ? 0 : seen.grew }); // a new source starts over
}

/** Whether `video` looks live: an endless duration, or one that kept growing (three times or more). */
export function looksLive(video: HTMLVideoElement): boolean {
  return video.duration === Infinity || (growth.get(video)?.grew ?? 0) >= 3;
}
