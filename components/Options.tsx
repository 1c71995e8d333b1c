import { useEffect, useState } from 'react';
import { FILENAME_TOKENS, isoDate, renderFilename, templateProblem } from '@/lib/filename';
import { loadSettings, saveSettings } from '@/lib/platform/storage';
import { DEFAULT_SETTINGS, type Settings } from '@/lib/settings';

const SAMPLE = { title: 'My trip: day 1/2', id: 'dQw4w9WgXcQ', height: 1080, provider: 'page', date: isoDate(), host: 'www.example.com', ext: 'mp4' };

/** The options page: preferences, validated with the settings schema before they are stored. */
export function Options() {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [template, setTemplate] = useState('');
  const [status, setStatus] = useState<string>('');

  useEffect(() => {
    void loadSettings().then((s) => {
      setSettings(s);
      setTemplate(s.filenameTemplate);
    });
  }, []);

  const problem = templateProblem(template);
  const save = async () => {
    if (!settings || problem) return;
    try {
      const saved = await saveSettings({ ...settings, filenameTemplate: template });
      setSettings(saved);
      setStatus('Saved.');
    } catch (e) {
      setStatus(`Not saved: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  return (
    <main style={{ maxWidth: 640, margin: '0 auto', padding: 24 }}>
      <h1>Vidmux options</h1>
      <h2>File names</h2>
      <label htmlFor="template">Filename template</label>
      <input
        id="template"
        type="text"
        value={template}
        onChange={(e) => {
          setTemplate(e.target.value);
          setStatus('');
        }}
        aria-describedby="template-help template-preview"
      />
      <p id="template-help" className="muted">
        Tokens: {FILENAME_TOKENS.map((t) => `{${t}}`).join(' ')}. Use “/” for a sub-folder of your downloads folder.
      </p>
      <p id="template-preview" data-testid="template-preview">
        {problem ? <span className="bad">{problem}</span> : <>Preview: <code>{renderFilename(template, SAMPLE)}</code></>}
      </p>
      <div className="row" style={{ justifyContent: 'flex-start' }}>
        <button className="primary" onClick={() => void save()} disabled={!!problem || !settings}>Save</button>
        <button onClick={() => setTemplate(DEFAULT_SETTINGS.filenameTemplate)}>Reset</button>
        <span role="status">{status}</span>
      </div>
      <h2>Privacy</h2>
      <p>
        Vidmux sends no telemetry. Your settings and API keys stay on this device; a key is only ever sent to its own
        provider.
      </p>
    </main>
  );
}
