import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Router } from 'wouter';
import { ApiError, api, setBearerToken } from '../lib/api';
import type { PortalSessionProbe } from '../lib/types';
import { EventsExplorer } from '../features/events/events-explorer';
import { ExportButton } from '../features/events/export-button';
import { ErrorState, LoadingBlock } from '../ui/states';
import { SessionEnded } from './portal-shell';

const STORAGE_PREFIX = 'verity-embed:';

/**
 * Turns the one-time link token into a bearer session token (no cookies: third-party iframes may not
 * get them), remembers it for reloads of this tab, and takes the token out of the address.
 */
let exchanged: Promise<string> | null = null;

/** Once per page load: the link token is single-use, so a second exchange (StrictMode, remounts) would fail. */
function exchangeOnce(): Promise<string> {
  exchanged ??= exchange();
  return exchanged;
}

async function exchange(): Promise<string> {
  const params = new URLSearchParams(window.location.search);
  const token = params.get('token');
  const key = `${STORAGE_PREFIX}${token ?? 'last'}`;
  const remembered = (() => {
    try {
      return sessionStorage.getItem(key) ?? (token === null ? sessionStorage.getItem(`${STORAGE_PREFIX}last`) : null);
    } catch {
      return null;
    }
  })();
  let sessionToken = remembered;
  if (sessionToken === null) {
    if (token === null) throw new ApiError(401, 'missing_token', 'This viewer needs a link with a token.');
    const result = await api.post<{ session_token: string; expires_at: string }>('/portal/api/exchange', { token });
    sessionToken = result.session_token;
    try {
      sessionStorage.setItem(key, sessionToken);
      sessionStorage.setItem(`${STORAGE_PREFIX}last`, sessionToken);
    } catch {
      // storage blocked in this iframe: the session lasts for this page view
    }
  }
  if (token !== null) {
    params.delete('token');
    const rest = params.toString();
    window.history.replaceState(null, '', `${window.location.pathname}${rest ? `?${rest}` : ''}`);
  }
  return sessionToken;
}

export function EmbedApp() {
  const [ready, setReady] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  useEffect(() => {
    document.documentElement.classList.add('embed');
    exchangeOnce()
      .then((token) => {
        setBearerToken(token);
        setReady(true);
      })
      .catch((error: unknown) => setFailure(error));
  }, []);
  const session = useQuery({
    queryKey: ['embed-session'],
    queryFn: () => api.get<PortalSessionProbe>('/portal/api/session'),
    enabled: ready,
    retry: false,
  });
  const probe = session.data;
  useEffect(() => {
    if (probe?.signed_in) document.title = `${probe.organization.name} · Audit logs`;
  }, [probe]);

  const error = failure ?? session.error;
  // A remembered session token that has since expired: the probe says so without an error.
  if (probe?.signed_in === false) {
    return <SessionEnded title="This audit log link has expired">Reload the page in your application to open a fresh view.</SessionEnded>;
  }
  if (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 410 || error.status === 404)) {
      return <SessionEnded title="This audit log link has expired">Reload the page in your application to open a fresh view.</SessionEnded>;
    }
    return (
      <div className="page">
        <ErrorState error={error} title="Could not open the audit log" />
      </div>
    );
  }
  if (!probe) return <LoadingBlock label="Opening audit log…" height={300} />;
  const organizationId = probe.organization.id;
  return (
    <Router base="/portal/embed">
      <main className="page" id="main">
        <EventsExplorer mode="embed" toolbarExtra={(filters) => <ExportButton organizationId={organizationId} filters={filters} />} />
      </main>
    </Router>
  );
}
