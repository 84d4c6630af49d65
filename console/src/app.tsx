import { useEffect, useState } from 'preact/hooks';
import { api, configureApi, message } from './api';
import { checkConfig, type ConsoleConfig } from './lib/oauth';
import { DataExportPage } from './pages/data-export';
import { DatapointLogsPage } from './pages/datapoint-logs';
import { FilesPage } from './pages/files';
import { navigate, onLinkClick, useLocation } from './router';
import { completeSignIn, getSession, signIn, signOut } from './session';

/** The verified caller, from `GET /me`. */
export interface Me {
  subject: string;
  oemId: string;
  admin: boolean;
}

const PAGES = [
  { path: '/data-export', title: 'Data Export' },
  { path: '/files', title: 'Files' },
  { path: '/datapoint-logs', title: 'Datapoint logs' },
] as const;

export function App() {
  const [config, setConfig] = useState<ConsoleConfig>();
  const [error, setError] = useState<string>();
  const [signedIn, setSignedIn] = useState(() => getSession() !== undefined);

  useEffect(() => {
    fetch('/config.json', { cache: 'no-store' })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`config.json: ${r.status}`))))
      .then((c: unknown) => {
        const checked = checkConfig(c);
        configureApi(checked, () => setSignedIn(false));
        setConfig(checked);
      })
      .catch((e: unknown) => setError(`The console could not load its settings (${message(e)}).`));
  }, []);

  const { path, search } = useLocation();

  if (error) return <Notice title="Console unavailable">{error}</Notice>;
  if (!config) return <Notice title="Loading…">Loading the console…</Notice>;
  if (path === '/callback') return <Callback config={config} search={search} onDone={() => setSignedIn(true)} />;
  if (!signedIn || !getSession()) return <SignIn config={config} />;
  return <Shell config={config} path={path} />;
}

function Notice({ title, children }: { title: string; children: preact.ComponentChildren }) {
  return (
    <main id="main" class="centered">
      <h1>{title}</h1>
      <p role="status">{children}</p>
    </main>
  );
}

function SignIn({ config }: { config: ConsoleConfig }) {
  const [busy, setBusy] = useState(false);
  const returnTo = location.pathname === '/' ? '/data-export' : location.pathname + location.search;
  return (
    <main id="main" class="centered">
      <h1>Device data console</h1>
      <p>Sign in with your OEM account to see your data export credentials, export files and datapoint logs.</p>
      <button
        type="button"
        class="primary"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          void signIn(config, returnTo);
        }}
      >
        Sign in
      </button>
    </main>
  );
}

function Callback({ config, search, onDone }: { config: ConsoleConfig; search: URLSearchParams; onDone: () => void }) {
  const [error, setError] = useState<string>();
  useEffect(() => {
    completeSignIn(config, search)
      .then((next) => {
        onDone();
        navigate(next, true);
      })
      .catch((e: unknown) => setError(message(e)));
    // Runs once: the code can be redeemed only once.
  }, []);
  if (!error) return <Notice title="Signing in…">Signing in…</Notice>;
  return (
    <main id="main" class="centered">
      <h1>Sign-in failed</h1>
      <p role="alert">{error}</p>
      <button type="button" class="primary" onClick={() => void signIn(config, '/data-export')}>
        Sign in again
      </button>
    </main>
  );
}

function Shell({ config, path }: { config: ConsoleConfig; path: string }) {
  const [me, setMe] = useState<Me>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api<Me>('/me').then(setMe, (e: unknown) => setError(message(e)));
  }, []);
  const page = PAGES.find((p) => path === p.path || path.startsWith(`${p.path}/`));
  useEffect(() => {
    if (!page) navigate('/data-export', true);
    document.title = `${page?.title ?? 'Data Export'} · Device data console`;
  }, [page]);

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <div class="brand">Device data console</div>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={p.path} aria-current={page?.path === p.path ? 'page' : undefined} onClick={(e) => onLinkClick(e, p.path)}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          {me ? (
            <span data-testid="identity">
              OEM <strong>{me.oemId}</strong> · <span>{me.admin ? 'OEM admin' : 'OEM member'}</span>
            </span>
          ) : null}
          <button type="button" onClick={() => signOut(config)}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {error ? <p role="alert" class="error">{error}</p> : null}
        {me && page?.path === '/data-export' ? <DataExportPage me={me} config={config} /> : null}
        {me && page?.path === '/files' ? <FilesPage me={me} /> : null}
        {me && page?.path === '/datapoint-logs' ? <DatapointLogsPage /> : null}
      </main>
    </>
  );
}
