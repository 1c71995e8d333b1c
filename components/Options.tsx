import { useEffect, useState } from 'react';
import { isoDate, renderFilename } from '@/lib/filename';
import { FILENAME_TOKENS, templateProblem } from '@/lib/schemas/filename-template';
import { loadSettings, saveSettings, watchSettings } from '@/lib/platform/storage';
import { KEYED_PROVIDER_IDS, QUALITIES, SiteHostSchema, type ProviderId } from '@/lib/schemas/ids';
import { VidioContractOverrideSchema } from '@/lib/schemas/reel';
import { DEFAULT_SETTINGS, type Settings } from '@/lib/schemas/settings';
import { ProviderKeys } from './ProviderKeys';
import { SiteAccess } from './SiteAccess';
import { TornadoStorage } from './TornadoStorage';

const SAMPLE = { title: 'My trip: day 1/2', id: 'dQw4w9WgXcQ', height: 1080, provider: 'vidpickr', date: isoDate(), host: 'www.example.com', ext: 'mp4' };
/** VIDIO's inferred contract, field by field, as the advanced section shows it (defaults: lib/providers/vidio.ts). */
const VIDIO_CONTRACT_FIELDS: Array<[keyof Settings['vidioContract'], string, string]> = [
  ['keyHeader', 'key header', 'X-API-Key'],
  ['uploadPath', 'upload path', '/uploads'],
  ['reelsPath', 'reel creation path', '/highlight-reels'],
  ['jobPath', 'job path', '/jobs/{id}'],
  ['renderPath', 'render path', '/jobs/{id}/render'],
];
const CODEC_NAMES: Record<Settings['codecPreference'][number], string> = { avc: 'H.264 (AVC)', hevc: 'H.265 (HEVC)', av1: 'AV1', vp9: 'VP9' };
const PROVIDER_NAMES: Record<ProviderId, string> = { vidpickr: 'VidPickr', renderio: 'RenderIO', tornado: 'Tornado', page: 'The page itself' };

/** A copy of `list` with item `i` moved one place up (-1) or down (+1). */
function moved<T>(list: T[], i: number, by: -1 | 1): T[] {
  const out = [...list];
  const j = i + by;
  if (j >= 0 && j < out.length) [out[i], out[j]] = [out[j]!, out[i]!];
  return out;
}

/** The options page: keys (kept by the background), then preferences validated by the settings schema. */
export function Options() {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [status, setStatus] = useState<string>('');

  useEffect(() => {
    void loadSettings().then(setSettings);
    // The popup may allow a site meanwhile: keep that list current, so Save does not drop it.
    return watchSettings((stored) => setSettings((s) => s && { ...s, privateNetworkSites: stored.privateNetworkSites }));
  }, []);
  if (!settings) return <main style={{ padding: 24 }}>Loading…</main>;

  const update = (patch: Partial<Settings>) => {
    setSettings({ ...settings, ...patch });
    setStatus('');
  };
  const problem = templateProblem(settings.filenameTemplate);
  const save = async () => {
    if (problem) return;
    // Settings fall back field by field on anything invalid: say so instead of dropping it quietly.
    const contract = VidioContractOverrideSchema.safeParse(settings.vidioContract);
    if (!contract.success) {
      const issue = contract.error.issues[0]!;
      setStatus(`Not saved: VIDIO ${String(issue.path[0] ?? 'contract')}: ${issue.message}`);
      return;
    }
    try {
      setSettings(await saveSettings(settings));
      setStatus('Saved.');
    } catch (e) {
      setStatus(`Not saved: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const moveCodec = (i: number, by: -1 | 1) => update({ codecPreference: moved(settings.codecPreference, i, by) });
  const move = (i: number, by: -1 | 1) => update({ providerOrder: moved(settings.providerOrder, i, by) });

  return (
    <main style={{ maxWidth: 680, margin: '0 auto', padding: 24 }}>
      <h1>Vidmux options</h1>

      <h2>Site access</h2>
      <SiteAccess always />

      <h2>Provider keys</h2>
      <p className="muted">A key unlocks a provider. Keys stay on this device, are shown masked, and are only ever sent to their own provider.</p>
      <ProviderKeys />
      <TornadoStorage />

      <h2>Provider order</h2>
      <p className="muted">Providers are tried in this order; one without a key is skipped, and if one fails the next is tried.</p>
      <ol aria-label="Provider order" style={{ paddingLeft: 20 }}>
        {settings.providerOrder.map((p, i) => (
          <li key={p} className="row" style={{ maxWidth: 360 }} data-testid="provider-order-item">
            <span>{PROVIDER_NAMES[p]}</span>
            <span>
              <button aria-label={`Move ${PROVIDER_NAMES[p]} up`} disabled={i === 0} onClick={() => move(i, -1)}>↑</button>{' '}
              <button aria-label={`Move ${PROVIDER_NAMES[p]} down`} disabled={i === settings.providerOrder.length - 1} onClick={() => move(i, 1)}>↓</button>
            </span>
          </li>
        ))}
      </ol>

      <h2>Downloads</h2>
      <label htmlFor="quality">Default quality</label>
      <select id="quality" value={settings.quality} onChange={(e) => update({ quality: e.target.value as Settings['quality'] })}>
        {QUALITIES.map((q) => (
          <option key={q} value={q}>{q === 'best' ? 'Best available' : q === 'audio' ? 'Audio only' : `${q}p`}</option>
        ))}
      </select>
      <p />
      <fieldset style={{ border: 0, padding: 0 }}>
        <legend>Audio-only saves</legend>
        <label><input type="radio" name="audio" checked={settings.audioFormat === 'm4a'} onChange={() => update({ audioFormat: 'm4a' })} /> M4A (the original AAC, no re-encode)</label>{' '}
        <label><input type="radio" name="audio" checked={settings.audioFormat === 'mp3'} onChange={() => update({ audioFormat: 'mp3' })} /> MP3 (made by RenderIO or Tornado)</label>
      </fieldset>
      <p className="muted" style={{ marginBottom: 4 }}>Preferred video codec, first choice first (H.264 plays everywhere; AV1 and VP9 are smaller):</p>
      <ol aria-label="Codec preference" style={{ paddingLeft: 20, marginTop: 0 }}>
        {settings.codecPreference.map((c, i) => (
          <li key={c} className="row" style={{ maxWidth: 360 }} data-testid="codec-item">
            <span>{CODEC_NAMES[c]}</span>
            <span>
              <button aria-label={`Prefer ${CODEC_NAMES[c]} more`} disabled={i === 0} onClick={() => moveCodec(i, -1)}>↑</button>{' '}
              <button aria-label={`Prefer ${CODEC_NAMES[c]} less`} disabled={i === settings.codecPreference.length - 1} onClick={() => moveCodec(i, 1)}>↓</button>
            </span>
          </li>
        ))}
      </ol>
      <fieldset style={{ border: 0, padding: 0 }}>
        <legend>Container</legend>
        <label><input type="radio" name="container" checked={settings.container === 'mp4'} onChange={() => update({ container: 'mp4' })} /> MP4 (plays everywhere; VP9, AV1 and Opus included)</label>{' '}
        <label><input type="radio" name="container" checked={settings.container === 'webm'} onChange={() => update({ container: 'webm' })} /> WebM when the source is WebM</label>
      </fieldset>
      <label htmlFor="audio-codec">Sound with the video</label>
      <select id="audio-codec" value={settings.audioCodec} onChange={(e) => update({ audioCodec: e.target.value as Settings['audioCodec'] })}>
        <option value="auto">The one that comes with it (AAC with MP4 video, Opus with WebM)</option>
        <option value="aac">AAC when offered (widest playback)</option>
        <option value="opus">Opus when offered</option>
      </select>
      <p />
      <fieldset style={{ border: 0, padding: 0 }}>
        <legend>When a download gives up</legend>
        <label htmlFor="low-speed">Slower than (bytes/s, 0: never)</label>{' '}
        <input id="low-speed" type="number" min={0} value={settings.limits.lowSpeedBytesPerSecond} onChange={(e) => update({ limits: { ...settings.limits, lowSpeedBytesPerSecond: Math.max(0, Math.round(Number(e.target.value) || 0)) } })} style={{ width: 90 }} />{' '}
        <label htmlFor="low-speed-time">for (seconds)</label>{' '}
        <input id="low-speed-time" type="number" min={1} max={600} value={settings.limits.lowSpeedSeconds} onChange={(e) => update({ limits: { ...settings.limits, lowSpeedSeconds: Math.max(1, Math.min(600, Math.round(Number(e.target.value) || 30))) } })} style={{ width: 70 }} />
        <br />
        <label htmlFor="give-up">Nothing received for (seconds, in all)</label>{' '}
        <input id="give-up" type="number" min={10} max={3600} value={settings.limits.giveUpSeconds} onChange={(e) => update({ limits: { ...settings.limits, giveUpSeconds: Math.max(10, Math.min(3600, Math.round(Number(e.target.value) || 90))) } })} style={{ width: 70 }} />
      </fieldset>
      <p />
      <label htmlFor="connections">Parallel connections per track (1-10)</label>
      <input id="connections" type="number" min={1} max={10} value={settings.connections} onChange={(e) => update({ connections: Math.max(1, Math.min(10, Number(e.target.value) || 4)) })} style={{ width: 80 }} />
      <p />
      <label htmlFor="subs">Subtitle languages (comma separated, e.g. en, de)</label>
      <input
        id="subs"
        type="text"
        value={settings.subtitleLanguages.join(', ')}
        onChange={(e) => update({ subtitleLanguages: e.target.value.split(/[,\s]+/).filter(Boolean) })}
      />

      <h2>File names</h2>
      <label htmlFor="template">Filename template</label>
      <input id="template" type="text" value={settings.filenameTemplate} onChange={(e) => update({ filenameTemplate: e.target.value })} aria-describedby="template-help template-preview" />
      <p id="template-help" className="muted">
        Tokens: {FILENAME_TOKENS.map((t) => `{${t}}`).join(' ')}. Use “/” for a sub-folder of your downloads folder.
      </p>
      <p id="template-preview" data-testid="template-preview">
        {problem ? <span className="bad">{problem}</span> : <>Preview: <code>{renderFilename(settings.filenameTemplate, SAMPLE)}</code></>}
      </p>

      <details>
        <summary>Advanced: provider base URLs (proxies, self-hosting)</summary>
        {KEYED_PROVIDER_IDS.map((p) => (
          <p key={p}>
            <label htmlFor={`base-${p}`}>
              {p === 'vidio' ? 'VIDIO base URL (its HTTP API is not public: the default is inferred; empty for that)' : `${PROVIDER_NAMES[p]} base URL (empty for the real one)`}
            </label>
            <input
              id={`base-${p}`}
              type="text"
              value={settings.baseUrls[p] ?? ''}
              onChange={(e) => update({ baseUrls: { ...settings.baseUrls, [p]: e.target.value.trim() || null } })}
            />
          </p>
        ))}
        <p className="muted">
          VIDIO publishes no HTTP reference: its key header and paths below are inferred. Correct them here if VIDIO tells you otherwise (empty keeps the inferred one).
        </p>
        {VIDIO_CONTRACT_FIELDS.map(([field, label, inferred]) => (
          <p key={field}>
            <label htmlFor={`vidio-${field}`}>VIDIO {label} (inferred: {inferred})</label>
            <input
              id={`vidio-${field}`}
              type="text"
              value={settings.vidioContract[field] ?? ''}
              onChange={(e) => {
                const { [field]: _old, ...rest } = settings.vidioContract;
                const value = e.target.value.trim();
                update({ vidioContract: value ? { ...rest, [field]: value } : rest });
              }}
            />
          </p>
        ))}
      </details>

      <div className="row" style={{ justifyContent: 'flex-start', marginTop: 16 }}>
        <button className="primary" onClick={() => void save()} disabled={!!problem}>Save settings</button>
        <button onClick={() => update({ filenameTemplate: DEFAULT_SETTINGS.filenameTemplate })}>Reset file names</button>
        <span role="status" data-testid="settings-status">{status}</span>
      </div>

      <h2>Local addresses</h2>
      <PrivateNetworkSites sites={settings.privateNetworkSites} onSaved={(privateNetworkSites) => setSettings({ ...settings, privateNetworkSites })} />

      <h2>Privacy</h2>
      <p>
        Vidmux sends no telemetry. Your settings and API keys stay on this device; a key is only ever sent to its own
        provider, over https.
      </p>
    </main>
  );
}

/**
 * Sites whose pages may make Vidmux fetch local addresses (lib/net/address.ts). Changes are saved
 * at once, on their own: the rest of the page may hold edits not saved yet.
 */
function PrivateNetworkSites({ sites, onSaved }: { sites: string[]; onSaved: (sites: string[]) => void }) {
  const [draft, setDraft] = useState('');
  const [problem, setProblem] = useState('');
  const store = async (change: (stored: string[]) => string[]) => {
    try {
      const stored = await loadSettings();
      onSaved((await saveSettings({ ...stored, privateNetworkSites: change(stored.privateNetworkSites) })).privateNetworkSites);
      setProblem('');
    } catch (e) {
      setProblem(`Not saved: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const add = () => {
    // A pasted address is fine too: its host name is the site.
    const text = draft.trim().toLowerCase();
    let host = text;
    try {
      host = new URL(text.includes('://') ? text : `https://${text}`).hostname;
    } catch {
      /* checked below */
    }
    if (!SiteHostSchema.safeParse(host).success) return setProblem(`“${draft}” is not a site name (like videos.example.com).`);
    setDraft('');
    void store((stored) => (stored.includes(host) ? stored : [...stored, host]));
  };
  return (
    <>
      <p className="muted">
        A page on the internet may not make Vidmux fetch from this computer or your local network (a router, a NAS, a service on
        localhost). Pages of these sites may:
      </p>
      {sites.length ? (
        <ul aria-label="Sites allowed to use local addresses" style={{ paddingLeft: 20 }}>
          {sites.map((site) => (
            <li key={site} className="row" style={{ maxWidth: 420 }} data-testid="private-network-site">
              <span className="break">{site}</span>
              <button aria-label={`Remove ${site}`} onClick={() => void store((stored) => stored.filter((s) => s !== site))}>Remove</button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted" data-testid="private-network-none">None.</p>
      )}
      <div className="row" style={{ maxWidth: 420 }}>
        <input type="text" aria-label="Site to allow local addresses" placeholder="videos.example.com" value={draft} onChange={(e) => setDraft(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && add()} />
        <button onClick={add} disabled={!draft.trim()}>Allow</button>
      </div>
      {problem && <p className="bad" role="alert">{problem}</p>}
    </>
  );
}
