/**
 * The media engine: stream-copy separate video and audio MP4 tracks into one MP4.
 * Browser-safe: nothing here touches node:* or extension APIs. In Node, pair it with
 * lib/media/node-file.ts; in the browser with lib/media/opfs-sink.ts.
 */
export { remux, type RemuxOptions, type RemuxSummary, type StreamSummary } from './remux';
export { assertMuxable, codecFamily, type FormatHint, type VideoCodecFamily, type AudioCodecFamily } from './codecs';
export { openTrack, type DemuxedTrack, type DemuxedTrackInfo, type Packet } from './demux';
