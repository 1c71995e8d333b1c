import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HttpClient } from '../net/http';
import { Aes128Keys } from '../streams/aes-128';
import { parseHls, sequenceIv, trackSegments, type HlsMaster, type HlsMedia } from './hls';

const BASE = 'https://cdn.example/vod/clip/master.m3u8';

const MASTER = `#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="audio/en.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="Deutsch",LANGUAGE="de",URI="audio/de.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",URI="subs/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="aud",FRAME-RATE=30
v360/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2800000,RESOLUTION=1280x720,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aud"
https://other.example/v720/index.m3u8?sig=abc
`;

describe('parseHls', () => {
  it('a master playlist: variants with codecs split, audio and subtitle renditions, URIs resolved', () => {
    const m = parseHls(MASTER, BASE) as HlsMaster;
    expect(m.kind).toBe('master');
    expect(m.variants).toEqual([
      { url: 'https://cdn.example/vod/clip/v360/index.m3u8', bandwidth: 800000, width: 640, height: 360, fps: 30, videoCodec: 'avc1.4d401e', audioCodec: 'mp4a.40.2', audioGroup: 'aud' },
      { url: 'https://other.example/v720/index.m3u8?sig=abc', bandwidth: 2800000, width: 1280, height: 720, fps: null, videoCodec: 'avc1.4d401f', audioCodec: 'mp4a.40.2', audioGroup: 'aud' },
    ]);
    expect(m.renditions).toEqual([
      { type: 'audio', group: 'aud', name: 'English', language: 'en', isDefault: true, url: 'https://cdn.example/vod/clip/audio/en.m3u8' },
      { type: 'audio', group: 'aud', name: 'Deutsch', language: 'de', isDefault: false, url: 'https://cdn.example/vod/clip/audio/de.m3u8' },
      { type: 'subtitles', group: 'subs', name: 'English', language: 'en', isDefault: false, url: 'https://cdn.example/vod/clip/subs/en.m3u8' },
    ]);
  });

  it('a media playlist: fMP4 init, byte ranges (the offset carried over), keys with explicit and sequence IVs, rotation, discontinuity', () => {
    const text = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-MAP:URI="init.mp4",BYTERANGE="700@0"
#EXT-X-KEY:METHOD=AES-128,URI="k1.key",IV=0x000102030405060708090a0b0c0d0e0f
#EXTINF:4.0,
#EXT-X-BYTERANGE:1000@700
media.mp4
#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example/k2"
#EXTINF:4.0,
#EXT-X-BYTERANGE:1200
media.mp4
#EXT-X-DISCONTINUITY
#EXT-X-KEY:METHOD=NONE
#EXTINF:2.5,
media.mp4
#EXT-X-ENDLIST
`;
    const m = parseHls(text, 'https://cdn.example/a/index.m3u8') as HlsMedia;
    expect(m).toMatchObject({ kind: 'media', live: false, targetDuration: 4, mediaSequence: 7, duration: 10.5 });
    const [s1, s2, s3] = m.segments;
    expect(s1).toMatchObject({ url: 'https://cdn.example/a/media.mp4', range: { start: 700, end: 1699 }, sequence: 7, discontinuity: false, key: { url: 'https://cdn.example/a/k1.key' } });
    expect([...s1!.key!.iv]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(s2).toMatchObject({ range: { start: 1700, end: 2899 }, sequence: 8, key: { url: 'https://keys.example/k2' } });
    expect([...s2!.key!.iv]).toEqual([...sequenceIv(8)]);
    expect(s3).toMatchObject({ range: null, sequence: 9, discontinuity: true, key: null });
    const { segments, initChanges } = trackSegments(m);
    expect(initChanges).toBe(false);
    expect(segments[0]).toEqual({ url: 'https://cdn.example/a/init.mp4', range: { start: 0, end: 699 }, key: null });
    expect(segments).toHaveLength(4);
  });

  it('the IV from a media sequence number is its big-endian value in 16 bytes', () => {
    expect([...sequenceIv(1)]).toEqual([...new Array(15).fill(0), 1]);
    expect([...sequenceIv(2 ** 32 + 258)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2]);
  });

  it('a playlist without EXT-X-ENDLIST is live; a changing EXT-X-MAP is told', () => {
    const live = parseHls('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXTINF:2,\nb.ts\n', BASE) as HlsMedia;
    expect(live.live).toBe(true);
    const two = parseHls('#EXTM3U\n#EXT-X-MAP:URI="i1.mp4"\n#EXTINF:2,\na.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="i2.mp4"\n#EXTINF:2,\nb.m4s\n#EXT-X-ENDLIST\n', BASE) as HlsMedia;
    expect(trackSegments(two).initChanges).toBe(true);
  });

  it('protected streams are refused as such: SAMPLE-AES, FairPlay, Widevine', () => {
    const sampleAes = '#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://k",KEYFORMAT="identity"\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n';
    expect(() => parseHls(sampleAes, BASE)).toThrow(expect.objectContaining({ code: 'protected', message: expect.stringMatching(/SAMPLE-AES/) }));
    const fairplay = '#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://k",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n';
    expect(() => parseHls(fairplay, BASE)).toThrow(expect.objectContaining({ code: 'protected', message: expect.stringMatching(/DRM/) }));
    const widevine =
      '#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI="data:text/plain;base64,AAAA",KEYID=0x0123456789abcdef0123456789abcdef,KEYFORMAT="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"\n#EXTINF:2,\na.mp4\n#EXT-X-ENDLIST\n';
    expect(() => parseHls(widevine, BASE)).toThrow(expect.objectContaining({ code: 'protected' }));
  });

  it('what is not a usable playlist says so', () => {
    expect(() => parseHls('<html></html>', BASE)).toThrow(expect.objectContaining({ code: 'bad_response', message: expect.stringMatching(/#EXTM3U/) }));
    expect(() => parseHls('#EXTM3U\n#EXT-X-ENDLIST\n', BASE)).toThrow(expect.objectContaining({ code: 'bad_response', message: expect.stringMatching(/no segments/) }));
    expect(() => parseHls('#EXTM3U\n#EXTINF:2,\njavascript:alert(1)\n#EXT-X-ENDLIST\n', BASE)).toThrow(expect.objectContaining({ code: 'bad_response', message: expect.stringMatching(/unusable URI/) }));
    const withIv = (iv: string) => `#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="k",IV=${iv}\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n`;
    expect(() => parseHls(withIv('0x0102030405060708090a'), BASE)).toThrow(expect.objectContaining({ code: 'bad_response', message: expect.stringMatching(/malformed IV/) }));
    expect(() => parseHls(withIv('0x0102'), BASE)).toThrow(expect.objectContaining({ code: 'bad_response', message: expect.stringMatching(/malformed IV/) }));
  });
});

describe('Aes128Keys', () => {
  const key = randomBytes(16);
  const iv = randomBytes(16);
  const keyUrl = `data:application/octet-stream;base64,${key.toString('base64')}`;
  const encrypt = (plain: Buffer, k = key, v = iv) => {
    const c = createCipheriv('aes-128-cbc', k, v);
    return new Uint8Array(Buffer.concat([c.update(plain), c.final()]));
  };

  it('decrypts AES-128-CBC segments (PKCS#7 padding removed), the key fetched once', async () => {
    const keys = new Aes128Keys(new HttpClient());
    const plain = randomBytes(188 * 7);
    expect(Buffer.from(await keys.decrypt(encrypt(plain), { url: keyUrl, iv }, 'Segment 1'))).toEqual(plain);
  });

  it('a wrong key or IV, or bytes that are not whole blocks, fail clearly', async () => {
    const keys = new Aes128Keys(new HttpClient());
    const data = encrypt(randomBytes(100));
    const otherKey = `data:application/octet-stream;base64,${randomBytes(16).toString('base64')}`;
    await expect(keys.decrypt(data, { url: otherKey, iv }, 'Segment 3')).rejects.toMatchObject({ code: 'corrupt_media', message: /Segment 3.*wrong key or IV/ });
    await expect(keys.decrypt(data.subarray(1), { url: keyUrl, iv }, 'Segment 4')).rejects.toMatchObject({ code: 'corrupt_media', message: /not whole AES blocks/ });
    await expect(keys.decrypt(data, { url: 'data:application/octet-stream;base64,AAAA', iv }, 'Segment 5')).rejects.toMatchObject({ code: 'bad_response', message: /not 16/ });
  });
});
