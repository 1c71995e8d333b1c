/**
 * The media engine: stream-copy video and audio tracks (MP4, fragmented MP4, MPEG-TS, WebM/Matroska) into one MP4
 * or WebM (`remux({ container })`).
 * Browser-safe: nothing here touches node:* or extension APIs. It reads ByteSources and writes to
 * a ByteSink from the caller (in Node, lib/node/files.ts has both for local files).
 */
export { remux, type RemuxOptions, type RemuxSummary, type StreamSummary } from './remux';
export { openTrack, openTracks, type DemuxedTrack, type DemuxedTrackInfo, type OpenedTracks, type Packet, type TrackWant } from './demux';
