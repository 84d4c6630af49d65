import { useState } from 'preact/hooks';

/** Copies `text` to the clipboard and says so (in a polite live region). */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState<string>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone('Copied');
    } catch {
      setDone('Copy failed: select the text and copy it');
    }
    setTimeout(() => setDone(undefined), 2500);
  };
  return (
    <span class="copy">
      <button type="button" onClick={() => void copy()} aria-label={label}>
        Copy
      </button>
      <span role="status" class="hint">
        {done ?? ''}
      </span>
    </span>
  );
}
