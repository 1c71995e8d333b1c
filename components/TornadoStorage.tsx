import { useEffect, useState } from 'react';
import { sendToBackground } from '@/lib/platform/messaging';

type Kind = 's3' | 'blob' | 'gcs' | 'oss';
const FIELDS: Record<Kind, Array<{ name: string; label: string; secret?: boolean; optional?: boolean; multiline?: boolean }>> = {
  s3: [
    { name: 'endpoint', label: 'Endpoint URL' },
    { name: 'bucket', label: 'Bucket' },
    { name: 'region', label: 'Region (auto for R2)' },
    { name: 'access_key', label: 'Access key' },
    { name: 'secret_key', label: 'Secret key', secret: true },
  ],
  blob: [
    { name: 'account_name', label: 'Account name' },
    { name: 'container', label: 'Container' },
    { name: 'account_key', label: 'Account key (or a SAS token below)', secret: true, optional: true },
    { name: 'sas_token', label: 'SAS token', secret: true, optional: true },
  ],
  gcs: [
    { name: 'project_id', label: 'Project id' },
    { name: 'bucket', label: 'Bucket' },
    { name: 'service_account_json', label: 'Service account key (JSON file content)', secret: true, multiline: true },
  ],
  oss: [
    { name: 'endpoint', label: 'Endpoint' },
    { name: 'bucket', label: 'Bucket' },
    { name: 'access_key_id', label: 'Access key id' },
    { name: 'access_key_secret', label: 'Access key secret', secret: true },
  ],
};
const NAMES: Record<Kind, string> = { s3: 'S3 / R2 / MinIO (S3-compatible)', blob: 'Azure Blob', gcs: 'Google Cloud Storage', oss: 'Alibaba OSS' };

/**
 * Tornado custom storage: when set, Tornado puts files in the user's own bucket and they stay
 * there; Vidmux shows where instead of downloading. Credentials are kept like API keys.
 */
export function TornadoStorage() {
  const [summary, setSummary] = useState<string | null>(null);
  const [kind, setKind] = useState<Kind>('s3');
  const [values, setValues] = useState<Record<string, string>>({});
  const [status, setStatus] = useState<{ bad: boolean; text: string } | null>(null);

  const load = () => sendToBackground('storage.get', {}).then((r) => setSummary(r.summary)).catch(() => undefined);
  useEffect(() => {
    void load();
  }, []);

  const save = async () => {
    const config: Record<string, string> = { provider: kind };
    for (const f of FIELDS[kind]) if (values[f.name]?.trim()) config[f.name] = values[f.name]!.trim();
    if (values.folder_prefix?.trim()) config.folder_prefix = values.folder_prefix.trim();
    try {
      const r = await sendToBackground('storage.set', { config });
      setSummary(r.summary);
      setValues({});
      setStatus({ bad: false, text: 'Saved.' });
    } catch (e) {
      setStatus({ bad: true, text: e instanceof Error ? e.message : String(e) });
    }
  };
  const remove = async () => {
    await sendToBackground('storage.remove', {});
    setSummary(null);
    setStatus({ bad: false, text: 'Removed: Tornado files come to this computer again.' });
  };

  return (
    <div className="card" data-testid="tornado-storage">
      <p>
        <strong>Tornado custom storage.</strong> {summary ? <>Files stay in your bucket: <span data-testid="storage-summary">{summary}</span></> : 'Not set: files made by Tornado are downloaded to this computer.'}
      </p>
      <label htmlFor="storage-kind">Storage</label>
      <select id="storage-kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
        {(Object.keys(NAMES) as Kind[]).map((k) => (
          <option key={k} value={k}>{NAMES[k]}</option>
        ))}
      </select>
      {[...FIELDS[kind], { name: 'folder_prefix', label: 'Folder prefix (optional)', optional: true }].map((f) => (
        <p key={`${kind}-${f.name}`}>
          <label htmlFor={`storage-${f.name}`}>{f.label}</label>
          {'multiline' in f && f.multiline ? (
            <textarea id={`storage-${f.name}`} rows={4} style={{ width: '100%' }} value={values[f.name] ?? ''} onChange={(e) => setValues({ ...values, [f.name]: e.target.value })} />
          ) : (
            <input
              id={`storage-${f.name}`}
              type={'secret' in f && f.secret ? 'password' : 'text'}
              autoComplete="off"
              value={values[f.name] ?? ''}
              onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
            />
          )}
        </p>
      ))}
      <div className="row" style={{ justifyContent: 'flex-start' }}>
        <button className="primary" onClick={() => void save()}>Save storage</button>
        <button disabled={!summary} onClick={() => void remove()}>Remove storage</button>
      </div>
      {status && <p role="status" className={status.bad ? 'bad' : 'muted'}>{status.text}</p>}
    </div>
  );
}
