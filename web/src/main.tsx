import '@fontsource-variable/inter';
import '@fontsource-variable/jetbrains-mono';
import './styles/tokens.css';
import './styles/base.css';
import './styles/components.css';
import { lazy, StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { applyTheme } from './lib/theme';
import { Providers } from './providers';
import { LoadingBlock } from './ui/states';

// Each surface is its own chunk: the embeddable viewer does not download the operator dashboard.
const DashboardApp = lazy(() => import('./dashboard/dashboard-app').then((m) => ({ default: m.DashboardApp })));
const PortalApp = lazy(() => import('./portal/portal-app').then((m) => ({ default: m.PortalApp })));
const EmbedApp = lazy(() => import('./portal/embed-app').then((m) => ({ default: m.EmbedApp })));

applyTheme();

const path = window.location.pathname;
if (!path.startsWith('/dashboard') && !path.startsWith('/portal')) window.history.replaceState(null, '', '/dashboard');

function App() {
  const current = window.location.pathname;
  const app = current.startsWith('/portal/embed') ? <EmbedApp /> : current.startsWith('/portal') ? <PortalApp /> : <DashboardApp />;
  return <Suspense fallback={<LoadingBlock height={320} />}>{app}</Suspense>;
}

const root = document.getElementById('root');
if (root !== null) {
  createRoot(root).render(
    <StrictMode>
      <Providers>
        <App />
      </Providers>
    </StrictMode>,
  );
}
