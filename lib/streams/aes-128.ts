/**
 * HLS AES-128 (RFC 8216 §4.3.2.4): each segment is encrypted whole with AES-128-CBC and PKCS#7
 * padding. Decrypted with WebCrypto, which runs in the browser and in Node alike; keys are fetched
 * once each (a playlist that rotates keys names several) through the context's client.
 */
import { VidmuxError } from '../errors';
import type { SegmentKey } from '../manifests/hls';
import { HttpClient, describeUrl } from '../net/http';

export class Aes128Keys {
  private readonly keys = new Map<string, Promise<CryptoKey>>();

  constructor(
    private readonly client: HttpClient,
    private readonly signal?: AbortSignal,
  ) {}

  /** `bytes` decrypted with `key` (a new array; the padding removed). */
  async decrypt(bytes: Uint8Array, key: SegmentKey, what: string): Promise<Uint8Array> {
    const cryptoKey = await this.key(key.url);
    if (bytes.length === 0 || bytes.length % 16 !== 0) {
      throw new VidmuxError('corrupt_media', `${what} is ${bytes.length} bytes, not whole AES blocks: it cannot be decrypted (wrong byte range or not encrypted?).`);
    }
    try {
      const plain = await crypto.subtle.decrypt({ name: 'AES-CBC', iv: key.iv as Uint8Array<ArrayBuffer> }, cryptoKey, bytes as Uint8Array<ArrayBuffer>);
      return new Uint8Array(plain);
    } catch (err) {
      // A wrong key or IV shows as bad padding: say so rather than WebCrypto's "OperationError".
      throw new VidmuxError('corrupt_media', `${what} could not be decrypted with its AES-128 key (wrong key or IV?).`, { cause: err });
    }
  }

  private key(url: string): Promise<CryptoKey> {
    let key = this.keys.get(url);
    if (!key) {
      key = this.fetchKey(url);
      this.keys.set(url, key);
      key.catch(() => this.keys.delete(url)); // a failed fetch is tried again by the next segment
    }
    return key;
  }

  private async fetchKey(url: string): Promise<CryptoKey> {
    const raw = url.startsWith('data:') ? dataUrlBytes(url) : await (await this.client.request(url, this.signal ? { signal: this.signal } : {})).bytes(1024);
    if (raw.length !== 16) {
      throw new VidmuxError('bad_response', `The AES-128 key at ${url.startsWith('data:') ? 'a data: URL' : describeUrl(url)} is ${raw.length} bytes, not 16.`);
    }
    return crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-CBC', false, ['decrypt']);
  }
}

function dataUrlBytes(url: string): Uint8Array {
  const comma = url.indexOf(',');
  const meta = url.slice(5, comma);
  const body = url.slice(comma + 1);
  if (comma < 0) return new Uint8Array();
  if (/;base64$/i.test(meta)) return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  return new TextEncoder().encode(decodeURIComponent(body));
}
