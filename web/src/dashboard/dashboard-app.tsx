import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Building2, CreditCard, FileDown, FileJson, KeyRound, LayoutDashboard, LogOut, Radio, ScrollText } from 'lucide-react';
import { createContext, lazy, Suspense, useContext, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { Link, Redirect, Route, Router, Switch, useLocation, useSearch } from 'wouter';
import { ApiError, api, errorMessage, setCsrfToken, setSessionKind, setUnauthorizedHandler } from '../lib/api';
import { initials } from '../lib/format';
import type { List, LogStream, OperatorSession, OperatorSessionProbe } from '../lib/types';
import { Button } from '../ui/button';
import { Field } from '../ui/field';
import { ErrorState, LoadingBlock } from '../ui/states';
import { ThemeToggle } from '../ui/theme-toggle';
import { ApiKeysPage } from './pages/api-keys';
import { EventsPage } from './pages/events';
import { ExportsPage } from './pages/exports';
import { OrganizationDetailPage } from './pages/organization-detail';
import { OrganizationsPage } from './pages/organizations';
import { OverviewPage } from './pages/overview';
import { StreamDetailPage, StreamsPage } from './pages/streams';
import { UsagePage } from './pages/usage';

// The schema editor brings a JSON Schema validator and the draft-07 meta-schema: load it when opened.
const SchemasPage = lazy(() => import('./pages/schemas').then((m) => ({ default: m.SchemasPage })));

const SessionContext = createContext<OperatorSession | null>(null);

export function useOperator(): OperatorSession {
  const session = useContext(SessionContext);
  if (session === null) throw new Error('useOperator outside the signed-in dashboard');
  return session;
}

export function BrandMark({ size = 26 }: { size?: number }) {
  return (
    <span className="brand-mark" style={{ width: size, height: size }} aria-hidden="true">
      <svg viewBox="0 0 24 24" width={size * 0.55} height={size * 0.55} fill="none" stroke="currentColor" strokeWidth="3" strokeLinecap="round" strokeLinejoin="round">
        <path d="M5 6l7 13 7-13" />
      </svg>
    </span>
  );
}

export function DashboardApp() {
  setSessionKind('operator');
  return (
    <Router base="/dashboard">
      <Switch>
        <Route path="/setup" component={SetupPage} />
        <Route>
          <AuthGate />
        </Route>
      </Switch>
    </Router>
  );
}

function AuthGate() {
  const client = useQueryClient();
  const session = useQuery({
    queryKey: ['session'],
    // Signed out is a 200 {signed_in: false}: nothing for the browser to log as a failed request.
    queryFn: async (): Promise<OperatorSession | null> => {
      const probe = await api.get<OperatorSessionProbe>('/dashboard/api/session');
      return probe.signed_in ? { operator: probe.operator, csrf_token: probe.csrf_token } : null;
    },
    staleTime: Infinity,
    retry: false,
  });

  useEffect(() => {
    setUnauthorizedHandler(() => client.setQueryData(['session'], null));
    return () => setUnauthorizedHandler(null);
  }, [client]);

  useEffect(() => {
    document.title = 'Verity';
    setCsrfToken(session.data?.csrf_token ?? null);
  }, [session.data]);

  if (session.isLoading) {
    return (
      <div className="auth">
        <LoadingBlock label="Checking your session…" />
      </div>
    );
  }
  if (session.isError) {
    return (
      <div className="auth">
        <div className="card auth-card">
          <ErrorState error={session.error} onRetry={() => void session.refetch()} title="Verity is not reachable" />
        </div>
      </div>
    );
  }
  if (!session.data) return <SignInPage onSignedIn={(data) => client.setQueryData(['session'], data)} />;
  return (
    <SessionContext.Provider value={session.data}>
      <Shell />
    </SessionContext.Provider>
  );
}

function AuthCard({ title, subtitle, children, footer }: { title: string; subtitle: string; children: ReactNode; footer?: ReactNode }) {
  return (
    <main className="auth">
      <div className="card auth-card">
        <header>
          <BrandMark size={40} />
          <div>
            <h1>{title}</h1>
            <p>{subtitle}</p>
          </div>
        </header>
        {children}
        {footer && <div className="auth-foot">{footer}</div>}
      </div>
    </main>
  );
}

function SignInPage({ onSignedIn }: { onSignedIn: (session: OperatorSession) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const signIn = useMutation({
    mutationFn: () => api.post<OperatorSession>('/dashboard/api/login', { email: email.trim(), password }),
    onSuccess: (data) => {
      setCsrfToken(data.csrf_token);
      onSignedIn(data);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate();
  };
  const error = signIn.error;
  return (
    <AuthCard title="Sign in to Verity" subtitle="Audit logs for your customers" footer="Operators are added when Verity starts, from VERITY_ADMIN_EMAIL and VERITY_ADMIN_PASSWORD (which also reset a forgotten password); the first may instead come from the one-time setup link it prints.">
      <form className="form-stack" onSubmit={submit}>
        {error && (
          <div className="callout callout-red" role="alert">
            {error instanceof ApiError && error.status === 401 ? 'That email and password do not match an operator.' : errorMessage(error)}
          </div>
        )}
        <Field label="Email">
          <input className="input" type="email" name="email" autoComplete="username" required autoFocus value={email} onChange={(event) => setEmail(event.target.value)} />
        </Field>
        <Field label="Password">
          <input className="input" type="password" name="password" autoComplete="current-password" required value={password} onChange={(event) => setPassword(event.target.value)} />
        </Field>
        <Button type="submit" variant="primary" size="lg" block loading={signIn.isPending}>
          Sign in
        </Button>
      </form>
    </AuthCard>
  );
}

function SetupPage() {
  const token = new URLSearchParams(useSearch()).get('token') ?? '';
  const [, navigate] = useLocation();
  const client = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [submitted, setSubmitted] = useState(false);
  const setup = useMutation({
    mutationFn: () => api.post<OperatorSession>('/dashboard/api/setup', { token, email: email.trim(), password }),
    onSuccess: (data) => {
      setCsrfToken(data.csrf_token);
      client.setQueryData(['session'], data);
      navigate('/', { replace: true });
    },
  });
  const passwordError = submitted && password.length < 12 ? 'Use at least 12 characters.' : undefined;
  const confirmError = submitted && confirm !== password ? 'The passwords do not match.' : undefined;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (password.length < 12 || confirm !== password) return;
    setup.mutate();
  };
  if (token === '') {
    return (
      <AuthCard title="Setup link missing" subtitle="Open the one-time link that `npm start` printed, including its token.">
        <Link className="btn btn-block" href="/">
          Go to sign in
        </Link>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Create the first operator" subtitle="This one-time link sets up the account that manages Verity.">
      <form className="form-stack" onSubmit={submit} noValidate>
        {setup.error && (
          <div className="callout callout-red" role="alert">
            {setup.error instanceof ApiError && (setup.error.status === 401 || setup.error.status === 410)
              ? 'This setup link has expired or was already used. Restart Verity to print a new one.'
              : errorMessage(setup.error)}
          </div>
        )}
        <Field label="Email" error={setup.error instanceof ApiError ? setup.error.fieldMessage('email') : undefined}>
          <input className="input" type="email" autoComplete="username" required autoFocus value={email} onChange={(event) => setEmail(event.target.value)} />
        </Field>
        <Field label="Password" hint="At least 12 characters." error={passwordError ?? (setup.error instanceof ApiError ? setup.error.fieldMessage('password') : undefined)}>
          <input className="input" type="password" autoComplete="new-password" required value={password} onChange={(event) => setPassword(event.target.value)} />
        </Field>
        <Field label="Confirm password" error={confirmError}>
          <input className="input" type="password" autoComplete="new-password" required value={confirm} onChange={(event) => setConfirm(event.target.value)} />
        </Field>
        <Button type="submit" variant="primary" size="lg" block loading={setup.isPending}>
          Create operator and sign in
        </Button>
      </form>
    </AuthCard>
  );
}

function NavLink({ href, icon, children, count, exact = false }: { href: string; icon: ReactNode; children: ReactNode; count?: number; exact?: boolean }) {
  const [location] = useLocation();
  const active = exact ? location === href : location === href || location.startsWith(`${href}/`);
  return (
    <Link href={href} className="nav-link" aria-current={active ? 'page' : undefined} title={typeof children === 'string' ? children : undefined}>
      {icon}
      <span className="label">{children}</span>
      {count !== undefined && count > 0 && (
        <span className="count" aria-label={`${count} need attention`}>
          {count}
        </span>
      )}
    </Link>
  );
}

function Shell() {
  const session = useOperator();
  const client = useQueryClient();
  const streams = useQuery({
    queryKey: ['streams', 'all'],
    queryFn: () => api.get<List<LogStream>>('/log_streams', { limit: 100 }),
    refetchInterval: 30_000,
  });
  const attention = (streams.data?.data ?? []).filter((s) => !s.paused && (s.state === 'error' || s.state === 'invalid')).length;
  const signOut = useMutation({
    mutationFn: () => api.post<void>('/dashboard/api/logout'),
    onSettled: () => {
      setCsrfToken(null);
      // Signed out first, so the sign-in page replaces the shell; then the signed-in data is dropped. (A
      // clear() first removed the session query under the gate's observer, which kept showing the shell
      // while every request answered 401.)
      client.setQueryData(['session'], null);
      client.removeQueries({ predicate: (query) => query.queryKey[0] !== 'session' });
    },
  });
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <BrandMark />
          <span className="brand-name">Verity</span>
        </div>
        <NavLink href="/" exact icon={<LayoutDashboard />}>
          Overview
        </NavLink>
        <NavLink href="/events" icon={<ScrollText />}>
          Events
        </NavLink>
        <NavLink href="/organizations" icon={<Building2 />}>
          Organizations
        </NavLink>
        <div className="nav-section">Delivery</div>
        <NavLink href="/log-streams" icon={<Radio />} count={attention}>
          Log streams
        </NavLink>
        <NavLink href="/exports" icon={<FileDown />}>
          Exports
        </NavLink>
        <div className="nav-section">Configure</div>
        <NavLink href="/schemas" icon={<FileJson />}>
          Schemas
        </NavLink>
        <NavLink href="/api-keys" icon={<KeyRound />}>
          API keys
        </NavLink>
        <NavLink href="/usage" icon={<CreditCard />}>
          Usage &amp; billing
        </NavLink>
        <div className="sidebar-footer">
          <ThemeToggle />
          <div className="account">
            <span className="avatar" aria-hidden="true">
              {initials(session.operator.email)}
            </span>
            <span className="account-email" title={session.operator.email}>
              {session.operator.email}
            </span>
            <Button variant="ghost" size="sm" iconOnly icon={<LogOut />} aria-label="Sign out" title="Sign out" className="account-signout" loading={signOut.isPending} onClick={() => signOut.mutate()} />
          </div>
        </div>
      </nav>
      <main className="main" id="main" tabIndex={-1}>
        <Suspense fallback={<LoadingBlock height={320} />}>
          <Switch>
            <Route path="/" component={OverviewPage} />
            <Route path="/events" component={EventsPage} />
            <Route path="/organizations" component={OrganizationsPage} />
            <Route path="/organizations/:id">{(params) => <OrganizationDetailPage id={params.id} />}</Route>
            <Route path="/log-streams" component={StreamsPage} />
            <Route path="/log-streams/:id">{(params) => <StreamDetailPage id={params.id} />}</Route>
            <Route path="/schemas">{() => <SchemasPage />}</Route>
            <Route path="/schemas/:action">{(params) => <SchemasPage action={decodeURIComponent(params.action)} />}</Route>
            <Route path="/exports" component={ExportsPage} />
            <Route path="/usage" component={UsagePage} />
            <Route path="/api-keys" component={ApiKeysPage} />
            <Route path="/login">
              <Redirect to="/" />
            </Route>
            <Route>
              <div className="page">
                <ErrorState error={new Error('There is no page at this address.')} title="Page not found" />
              </div>
            </Route>
          </Switch>
        </Suspense>
      </main>
    </div>
  );
}
