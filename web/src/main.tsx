import '@fontsource-variable/inter';
import '@fontsource-variable/jetbrains-mono';
import './styles/tokens.css';
import './styles/base.css';
import './styles/components.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { DashboardApp } from './dashboard/dashboard-app';
import { applyTheme } from './lib/theme';
import { EmbedApp } from './portal/embed-app';
import { PortalApp } from './portal/portal-app';
import { Providers } from './providers';

applyTheme();

const path = window.location.pathname;
if (!path.startsWith('/dashboard') && !path.startsWith('/portal')) window.history.replaceState(null, '', '/dashboard');

function App() {
  const current = window.location.pathname;
  if (current.startsWith('/portal/embed')) return <EmbedApp />;
  if (current.startsWith('/portal')) return <PortalApp />;
  return <DashboardApp />;
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
