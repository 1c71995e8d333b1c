import { useEffect, useState } from 'react';
import { hasSiteAccess, reloadTab, requestSiteAccess, watchSiteAccess } from '@/lib/platform/site-access';

/** Whether Vidmux may use every site, kept current as the user grants or withdraws it. */
function useSiteAccess(): boolean | null {
  const [granted, setGranted] = useState<boolean | null>(null);
  useEffect(() => {
    const check = () => void hasSiteAccess().then(setGranted);
    check();
    return watchSiteAccess(check);
  }, []);
  return granted;
}

const WHY =
  'Vidmux needs access to the sites you visit to find the videos on a page, fetch them, and reach the providers you added keys for. ' +
  'Nothing about your browsing is sent anywhere else.';

/**
 * Asks for site access when it is missing (Firefox: host permissions are optional in MV3; Chrome:
 * the user may withhold them), saying why. `tabId`: the tab to load again once granted, so its
 * videos show (the popup); `always`: also say that access is granted (the options page).
 */
export function SiteAccess({ tabId = null, always = false }: { tabId?: number | null; always?: boolean }) {
  const granted = useSiteAccess();
  const [refused, setRefused] = useState(false);
  if (granted === null || (granted && !always)) return null;
  if (granted)
    return (
      <p className="muted" data-testid="site-access" data-granted="true">
        Vidmux can use every site (needed to find and fetch videos). Your browser’s add-on settings can take this back.
      </p>
    );
  const ask = () => {
    // No await before the request: Firefox grants it only during the click.
    void requestSiteAccess()
      .then((ok) => {
        setRefused(!ok);
        if (ok && tabId !== null) void reloadTab(tabId);
      })
      .catch(() => setRefused(true));
  };
  return (
    <div className="card" role="alert" data-testid="site-access" data-granted="false">
      <strong>Vidmux has no access to sites</strong>
      <p style={{ margin: '6px 0' }}>{WHY}</p>
      <button type="button" className="primary" onClick={ask}>
        Allow access to all sites
      </button>
      {refused && <p className="bad">Not allowed. Vidmux cannot see or save videos until it is.</p>}
    </div>
  );
}
