// The parts of m3u8-parser's output Vidmux reads (the package ships no types).
declare module 'm3u8-parser' {
  export interface M3u8ByteRange {
    offset: number;
    length: number;
  }
  export interface M3u8Key {
    method: string;
    uri: string;
    /** Four big-endian 32-bit words, when the tag had an IV. */
    iv?: Uint32Array;
  }
  export interface M3u8Segment {
    uri: string;
    duration: number;
    byterange?: M3u8ByteRange;
    key?: M3u8Key;
    map?: { uri: string; byterange?: M3u8ByteRange; key?: M3u8Key };
    discontinuity?: boolean;
    timeline?: number;
  }
  export interface M3u8Rendition {
    default?: boolean;
    autoselect?: boolean;
    language?: string;
    uri?: string;
    instreamId?: string;
    characteristics?: string;
    forced?: boolean;
  }
  export interface M3u8Variant {
    uri: string;
    attributes: {
      BANDWIDTH?: number;
      'AVERAGE-BANDWIDTH'?: number;
      CODECS?: string;
      RESOLUTION?: { width: number; height: number };
      'FRAME-RATE'?: number;
      AUDIO?: string;
      SUBTITLES?: string;
    };
  }
  export interface M3u8Manifest {
    segments: M3u8Segment[];
    playlists?: M3u8Variant[];
    mediaGroups?: Record<'AUDIO' | 'VIDEO' | 'SUBTITLES' | 'CLOSED-CAPTIONS', Record<string, Record<string, M3u8Rendition>>>;
    targetDuration?: number;
    mediaSequence?: number;
    endList?: boolean;
    playlistType?: string;
    discontinuityStarts: number[];
    /** By key system, when a DRM key (FairPlay, PlayReady, Widevine) was declared. */
    contentProtection?: Record<string, unknown>;
  }
  export class Parser {
    manifest: M3u8Manifest;
    push(chunk: string): void;
    end(): void;
    on(event: 'warn' | 'info', listener: (e: { message: string }) => void): void;
  }
}
