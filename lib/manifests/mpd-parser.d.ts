// The parts of mpd-parser's output Vidmux reads (the package ships no types).
declare module 'mpd-parser' {
  export interface MpdByteRange {
    offset: number;
    length: number;
  }
  export interface MpdSegment {
    uri: string;
    resolvedUri: string;
    byterange?: MpdByteRange;
    map?: { uri: string; resolvedUri: string; byterange?: MpdByteRange };
    duration: number;
    /** Seconds from the presentation's start (a live stream's: since availabilityStartTime). */
    presentationTime?: number;
    number?: number;
  }
  export interface MpdPlaylist {
    attributes: {
      NAME?: string;
      BANDWIDTH?: number;
      CODECS?: string;
      RESOLUTION?: { width: number; height: number };
      'FRAME-RATE'?: number;
    };
    uri: string;
    resolvedUri: string;
    /** Missing for a Representation that has only a BaseURL. */
    segments?: MpdSegment[];
    sidx?: { uri: string; resolvedUri: string; byterange: MpdByteRange };
    /** By key system, when ContentProtection elements apply. */
    contentProtection?: Record<string, unknown>;
    targetDuration?: number;
  }
  export interface MpdManifest {
    duration?: number;
    playlists: MpdPlaylist[];
    mediaGroups: {
      AUDIO: Record<string, Record<string, { language?: string; playlists: MpdPlaylist[] }>>;
    };
  }
  /** `NOW`: the wall clock (ms) a dynamic manifest's segments are listed against. */
  export function parse(manifest: string, options: { manifestUri: string; NOW?: number }): MpdManifest;
}
