import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, message } from '../api';
import type { Me } from '../app';
import { ConfirmDialog } from '../components/confirm-dialog';
import { CopyButton } from '../components/copy';
import { clientSettings, mask, type ExportCredentials } from '../lib/commands';
import { formatTime } from '../lib/format';
import type { ConsoleConfig } from '../lib/oauth';

type State = { kind: 'loading' } | { kind: 'ready'; credentials: ExportCredentials } | { kind: 'forbidden' } | { kind: 'error'; message: string };

export function DataExportPage({ me, config }: { me: Me; config: ConsoleConfig }) {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const [revealed, setRevealed] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [refreshing, setRefreshing] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [refreshError, setRefreshError] = useState<string>();
  const heading = useRef<HTMLHeadingElement>(null);
  const base = `/oems/${encodeURIComponent(me.oemId)}/data-export/credentials`;

  useEffect(() => {
    api<ExportCredentials>(base).then(
      (credentials) => setState({ kind: 'ready', credentials }),
      (e: unknown) => setState(e instanceof ApiError && e.status === 403 ? { kind: 'forbidden' } : { kind: 'error', message: message(e) }),
    );
  }, [base]);

  const refresh = async () => {
    setConfirming(false);
    setRefreshing(true);
    setRefreshError(undefined);
    setNotice(undefined);
    try {
      const credentials = await api<ExportCredentials>(`${base}/refresh`, { method: 'POST' });
      setState({ kind: 'ready', credentials });
      setRevealed(false);
      setNotice(`New credentials issued: access key ${credentials.accessKeyId}. The previous key no longer works; update your clients.`);
    } catch (e) {
      setRefreshError(message(e));
    } finally {
      setRefreshing(false);
    }
  };

  return (
    <section aria-labelledby="data-export-title">
      <h1 id="data-export-title" ref={heading}>
        Data Export
      </h1>
      <p class="lead">
        Device events of OEM <strong>{me.oemId}</strong> are exported as CSV files to Amazon S3, one folder per event type, kept 12 months. Use these
        credentials with any S3 client to list and download them.
      </p>
      {state.kind === 'loading' ? <p role="status">Loading credentials…</p> : null}
      {state.kind === 'forbidden' ? (
        <p role="alert" class="info" data-testid="not-admin">
          Only OEM admins can view the data export credentials. Ask an admin of OEM {me.oemId} for access, or browse the export files in Files.
        </p>
      ) : null}
      {state.kind === 'error' ? <p role="alert" class="error">{state.message}</p> : null}
      {state.kind === 'ready' ? (
        <Credentials
          credentials={state.credentials}
          revealed={revealed}
          onReveal={() => setRevealed((r) => !r)}
          endpoint={config.s3Endpoint}
        />
      ) : null}
      {state.kind === 'ready' ? (
        <div class="refresh">
          <button type="button" class="danger" disabled={refreshing} onClick={() => setConfirming(true)}>
            {refreshing ? 'Refreshing…' : 'Refresh credentials'}
          </button>
          <div role="status" class="notice" data-testid="refresh-notice">
            {notice ?? ''}
          </div>
          {refreshError ? <p role="alert" class="error">{refreshError}</p> : null}
        </div>
      ) : null}
      <ConfirmDialog
        open={confirming}
        title="Refresh credentials?"
        acceptLabel="Accept"
        onAccept={() => void refresh()}
        onCancel={() => setConfirming(false)}
      >
        <p>A new access key is issued and the current one is deleted at once: every client using it stops working until it is given the new key.</p>
      </ConfirmDialog>
    </section>
  );
}

function Credentials({ credentials: c, revealed, onReveal, endpoint }: { credentials: ExportCredentials; revealed: boolean; onReveal: () => void; endpoint?: string }) {
  const shown = clientSettings(c, revealed ? c.secretAccessKey : mask(c.secretAccessKey), endpoint);
  const real = clientSettings(c, c.secretAccessKey, endpoint);
  return (
    <>
      <dl class="fields" data-testid="credentials">
        <dt>Access key ID</dt>
        <dd>
          <code data-testid="access-key-id">{c.accessKeyId}</code> <CopyButton text={c.accessKeyId} label="Copy access key ID" />
        </dd>
        <dt id="secret-label">Secret access key</dt>
        <dd>
          <code data-testid="secret" aria-labelledby="secret-label">
            {revealed ? c.secretAccessKey : <span aria-label="hidden">{mask(c.secretAccessKey)}</span>}
          </code>{' '}
          <button type="button" aria-pressed={revealed} onClick={onReveal}>
            {revealed ? 'Hide' : 'Reveal'}
          </button>{' '}
          <CopyButton text={c.secretAccessKey} label="Copy secret access key" />
        </dd>
        <dt>Bucket</dt>
        <dd>
          <code data-testid="bucket">{c.bucket}</code>
        </dd>
        <dt>Prefix</dt>
        <dd>
          <code data-testid="prefix">{c.prefix}</code>
        </dd>
        <dt>Region</dt>
        <dd>
          <code data-testid="region">{c.region}</code>
        </dd>
        <dt>S3 URL</dt>
        <dd>
          <code data-testid="s3-url">{c.s3Url}</code> <CopyButton text={c.s3Url} label="Copy S3 URL" />
        </dd>
        <dt>Issued</dt>
        <dd>{formatTime(c.createdAt)}</dd>
      </dl>
      <h2>Connect a client</h2>
      <p>
        Always name the prefix with its trailing slash (<code>{c.prefix}</code>): the key may list only under it.
      </p>
      <div class="client">
        <h3 id="aws-cli">aws CLI</h3>
        <pre aria-labelledby="aws-cli" tabIndex={0}>
          <code>{shown.awsCli}</code>
        </pre>
        <CopyButton text={real.awsCli} label="Copy the aws CLI commands" />
      </div>
      <div class="client">
        <h3 id="s3cmd">s3cmd</h3>
        <pre aria-labelledby="s3cmd" tabIndex={0}>
          <code>{shown.s3cmd}</code>
        </pre>
        <CopyButton text={real.s3cmd} label="Copy the s3cmd commands" />
      </div>
      <div class="client">
        <h3>Cyberduck</h3>
        <p>Open Connection, then fill in:</p>
        <dl class="fields">
          {shown.cyberduck.map((f) => (
            <Fragment key={f.label}>
              <dt>{f.label}</dt>
              <dd>
                <code>{f.value}</code>
              </dd>
            </Fragment>
          ))}
        </dl>
      </div>
    </>
  );
}
