/**
 * The media engine: stream-copy separate video and audio MP4 tracks into one MP4.
 * Browser-safe: nothing here touches node:* or extension APIs. It reads ByteSources and writes to
 * a ByteSink from the caller (in Node, lib/node/files.ts has both for local files).
 */
export { remux, type RemuxOptions, type RemuxSummary, type StreamSummary } from './remux';
export { openTrack, type DemuxedTrack, type DemuxedTrackInfo, type Packet } from './demux';
