import { ArrowLeft, Clock } from 'lucide-react';
import type { ReactNode } from 'react';
import type { Brand, PortalSession } from '../lib/types';
import { ThemeToggle } from '../ui/theme-toggle';

export function BrandHeader({ session }: { session: PortalSession }) {
  return (
    <header className="portal-top">
      <div className="row" style={{ gap: 14, minWidth: 0 }}>
        <div className="brand" style={{ padding: 0 }}>
          <BrandMark brand={session.brand} />
        </div>
        <span className="divider" aria-hidden="true" />
        <span className="org truncate" data-testid="portal-org">
          {session.organization.name}
        </span>
      </div>
      <div className="row" style={{ gap: 10, flex: 'none' }}>
        <div style={{ width: 96 }}>
          <ThemeToggle />
        </div>
        {session.return_url && (
          <a className="btn btn-sm" href={session.return_url} aria-label={`Back to ${session.brand.name}`} title={`Back to ${session.brand.name}`}>
            <ArrowLeft aria-hidden="true" /> <span className="back-label">Back to {session.brand.name}</span>
          </a>
        )}
      </div>
    </header>
  );
}

/** The vendor's logo, or its initial and name. */
export function BrandMark({ brand }: { brand: Brand }) {
  return brand.logo_url ? (
    <img className="brand-logo" src={brand.logo_url} alt={brand.name} />
  ) : (
    <>
      <span className="brand-mark" aria-hidden="true">
        {brand.name.slice(0, 1).toUpperCase()}
      </span>
      <span className="brand-name">{brand.name}</span>
    </>
  );
}

export function SessionEnded({ title = 'This session has ended', brand, children }: { title?: string; brand?: Brand; children?: ReactNode }) {
  return (
    <main className="auth">
      {brand && (
        <div className="brand auth-brand">
          <BrandMark brand={brand} />
        </div>
      )}
      <div className="card auth-card">
        <header>
          <span className="empty-icon" aria-hidden="true" style={{ margin: 0 }}>
            <Clock />
          </span>
          <div>
            <h1>{title}</h1>
            <p>{children ?? 'Portal links are single-use and sessions expire after a while. Ask your administrator for a new link.'}</p>
          </div>
        </header>
      </div>
    </main>
  );
}
