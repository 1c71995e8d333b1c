import { useEffect, useState } from 'react';
import { keyHint, KEY_PREFIXES } from '@/lib/keys';
import type { KeyedProvider } from '@/lib/schemas/ids';
import { sendToBackground } from '@/lib/platform/messaging';

const NAMES: Record<KeyedProvider, string> = { vidpickr: 'VidPickr', renderio: 'RenderIO', tornado: 'Tornado', vidio: 'VIDIO (highlight reels)' };

/** One provider's key: add (masked once saved), test with the provider, remove. */
function KeyRow({ provider, masked, onChange }: { provider: KeyedProvider; masked: string | null; onChange: () => void }) {
  const [draft, setDraft] = useState('');
  const [status, setStatus] = useState<{ kind: 'ok' | 'bad' | 'info'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const id = `key-${provider}`;

  const run = async (what: () => Promise<void>) => {
    setBusy(true);
    try {
      await what();
    } catch (e) {
      setStatus({ kind: 'bad', text: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };
  const save = () =>
    run(async () => {
      const { masked: m } = await sendToBackground('keys.set', { provider, key: draft });
      setDraft('');
      setStatus({ kind: 'info', text: `Saved ${m}.${keyHint(provider, draft) ? ` ${keyHint(provider, draft)}` : ''}` });
      onChange();
    });
  const test = () =>
    run(async () => {
      setStatus({ kind: 'info', text: 'Testing…' });
      const r = await sendToBackground('keys.test', { provider });
      setStatus({ kind: 'ok', text: `Works: ${r.summary}` });
    });
  const remove = () =>
    run(async () => {
      await sendToBackground('keys.remove', { provider });
      setStatus({ kind: 'info', text: 'Removed.' });
      onChange();
    });

  return (
    <div className="card" data-testid={`provider-${provider}`}>
      <div className="row">
        <label htmlFor={id}>
          <strong>{NAMES[provider]}</strong> API key
        </label>
        <code data-testid="masked-key">{masked ?? 'not set'}</code>
      </div>
      <div className="row" style={{ marginTop: 6 }}>
        <input
          id={id}
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder={masked ? 'Replace the key…' : `${KEY_PREFIXES[provider]}…`}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
        />
        <button className="primary" disabled={busy || !draft.trim()} onClick={() => void save()}>Save</button>
        <button disabled={busy || !masked} onClick={() => void test()}>Test</button>
        <button disabled={busy || !masked} onClick={() => void remove()}>Remove</button>
      </div>
      {status && (
        <p role="status" data-testid="key-status" className={status.kind === 'bad' ? 'bad' : status.kind === 'ok' ? 'ok' : 'muted'}>
          {status.text}
        </p>
      )}
    </div>
  );
}

/** The keys section of the options page. */
export function ProviderKeys() {
  const [keys, setKeys] = useState<Array<{ provider: KeyedProvider; masked: string | null }>>([]);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    sendToBackground('keys.list', {})
      .then((r) => setKeys(r.keys))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  useEffect(() => {
    void load();
  }, []);
  return (
    <section aria-label="Provider keys">
      {error && <p className="bad" role="alert">{error}</p>}
      {keys.map((k) => (
        <KeyRow key={k.provider} provider={k.provider} masked={k.masked} onChange={() => void load()} />
      ))}
    </section>
  );
}
