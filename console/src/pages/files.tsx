import { useEffect, useRef, useState } from 'preact/hooks';
import { api, message } from '../api';
import type { Me } from '../app';
import { crumbs, formatBytes, formatTime, parentPrefix } from '../lib/format';

interface Listing {
  prefix: string;
  folders: { name: string; prefix: string }[];
  files: { name: string; key: string; size: number; lastModified: string }[];
  next?: string;
}

interface Preview {
  key: string;
  size: number;
  columns: string[];
  rows: string[][];
  decoded: string[];
  truncated: boolean;
}

const PREVIEW_ROWS = 50;

/** The OEM's export files: event-type folders, timestamped folders (newest first), files with download and preview. */
export function FilesPage({ me }: { me: Me }) {
  const base = `/oems/${encodeURIComponent(me.oemId)}/data-export/files`;
  const [prefix, setPrefix] = useState('');
  const [listing, setListing] = useState<Listing>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [preview, setPreview] = useState<Preview>();
  const [previewError, setPreviewError] = useState<string>();
  const previewHeading = useRef<HTMLHeadingElement>(null);

  const load = async (at: string, cursor?: string) => {
    setLoading(true);
    setError(undefined);
    try {
      const query = new URLSearchParams({ prefix: at, ...(cursor ? { cursor } : {}) });
      const page = await api<Listing>(`${base}?${query.toString()}`);
      setListing((previous) =>
        cursor && previous ? { ...page, folders: [...previous.folders, ...page.folders], files: [...previous.files, ...page.files] } : page,
      );
    } catch (e) {
      setError(message(e));
      if (!cursor) setListing(undefined);
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    // The previous folder's entries go at once: a click meanwhile must not act on them.
    setListing(undefined);
    setPreview(undefined);
    setPreviewError(undefined);
    void load(prefix);
  }, [prefix]);

  useEffect(() => {
    if (preview) previewHeading.current?.focus();
  }, [preview]);

  const download = async (key: string) => {
    try {
      const { url } = await api<{ url: string; expiresAt: string }>(`${base}/download?${new URLSearchParams({ key }).toString()}`);
      location.assign(url);
    } catch (e) {
      setError(message(e));
    }
  };

  const showPreview = async (key: string) => {
    setPreviewError(undefined);
    try {
      setPreview(await api<Preview>(`${base}/preview?${new URLSearchParams({ key, rows: String(PREVIEW_ROWS) }).toString()}`));
    } catch (e) {
      setPreview(undefined);
      setPreviewError(message(e));
    }
  };

  return (
    <section aria-labelledby="files-title">
      <h1 id="files-title">Files</h1>
      <p class="lead">
        The export files of OEM <strong>{me.oemId}</strong>: a folder per event type, in it a folder per file named by when it was written (UTC), newest
        first.
      </p>
      <nav aria-label="Folder" class="crumbs">
        <ol>
          <li>
            <button type="button" class="link" onClick={() => setPrefix('')} aria-current={prefix === '' ? 'location' : undefined}>
              {me.oemId}
            </button>
          </li>
          {crumbs(prefix).map((c) => (
            <li key={c.prefix}>
              <button type="button" class="link" onClick={() => setPrefix(c.prefix)} aria-current={prefix === c.prefix ? 'location' : undefined}>
                {c.name}
              </button>
            </li>
          ))}
        </ol>
      </nav>
      {error ? <p role="alert" class="error">{error}</p> : null}
      {loading && !listing ? <p role="status">Loading…</p> : null}
      {listing ? (
        <table class="listing" data-testid="files">
          <caption class="visually-hidden">Contents of {prefix || 'the OEM folder'}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" class="num">
                Size
              </th>
              <th scope="col">Written</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {prefix !== '' ? (
              <tr>
                <td colSpan={4}>
                  <button type="button" class="link" onClick={() => setPrefix(parentPrefix(prefix))}>
                    ↑ Up one folder
                  </button>
                </td>
              </tr>
            ) : null}
            {listing.folders.map((f) => (
              <tr key={f.prefix}>
                <td>
                  <button type="button" class="link folder" onClick={() => setPrefix(f.prefix)}>
                    {f.name}/
                  </button>
                </td>
                <td class="num">—</td>
                <td></td>
                <td></td>
              </tr>
            ))}
            {listing.files.map((f) => (
              <tr key={f.key}>
                <th scope="row" class="file">
                  {f.name}
                </th>
                <td class="num">{formatBytes(f.size)}</td>
                <td>{formatTime(f.lastModified)}</td>
                <td class="actions">
                  <button type="button" onClick={() => void download(f.key)} aria-label={`Download ${f.name}`}>
                    Download
                  </button>
                  <button type="button" onClick={() => void showPreview(f.key)} aria-label={`Preview ${f.name}`}>
                    Preview
                  </button>
                </td>
              </tr>
            ))}
            {listing.folders.length === 0 && listing.files.length === 0 ? (
              <tr>
                <td colSpan={4}>{prefix === '' ? 'No export files yet: files appear a few minutes after the first events.' : 'This folder is empty.'}</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : null}
      {listing?.next ? (
        <button type="button" disabled={loading} onClick={() => void load(prefix, listing.next)}>
          Load more
        </button>
      ) : null}
      {previewError ? <p role="alert" class="error">{previewError}</p> : null}
      {preview ? <PreviewTable preview={preview} headingRef={previewHeading} onClose={() => setPreview(undefined)} /> : null}
    </section>
  );
}

function PreviewTable({ preview, headingRef, onClose }: { preview: Preview; headingRef: preact.RefObject<HTMLHeadingElement | null>; onClose: () => void }) {
  const decoded = new Set(preview.decoded);
  const name = preview.key.split('/').pop() ?? preview.key;
  return (
    <section class="preview" aria-labelledby="preview-title" data-testid="preview">
      <h2 id="preview-title" tabIndex={-1} ref={headingRef}>
        Preview of {name}
      </h2>
      <p>
        {preview.rows.length} row{preview.rows.length === 1 ? '' : 's'} of {formatBytes(preview.size)}
        {preview.truncated ? ' (the first rows only)' : ''}.{' '}
        {preview.decoded.length > 0 ? `Decoded from base64: ${preview.decoded.join(', ')} (marked *).` : 'No base64 columns.'}{' '}
        <button type="button" class="link" onClick={onClose}>
          Close preview
        </button>
      </p>
      <div class="scroll" tabIndex={0} role="region" aria-label={`Rows of ${name}`}>
        <table>
          <thead>
            <tr>
              {preview.columns.map((c) => (
                <th scope="col" key={c} class={decoded.has(c) ? 'decoded' : undefined}>
                  {c}
                  {decoded.has(c) ? ' *' : ''}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {preview.rows.map((row, i) => (
              <tr key={i}>
                {row.map((cell, j) => (
                  <td key={j}>{cell}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
