import { useState } from 'preact/hooks';
import { api, message } from '../api';
import { datapointAddress, logsPath } from '../lib/address';
import { numberOrText } from '../lib/format';
import type { DatapointEntry } from './datapoint-logs';

type Level = 1 | 2 | 3;
const LEVELS: Level[] = [1, 2, 3];

interface Form {
  interval: Record<Level, string>;
  retention: Record<Level, string>;
  minDeltaKind: 'any' | 'always' | 'number';
  minDeltaNumber: string;
  minDeltaTime: string;
}

function formOf(entry: DatapointEntry): Form {
  const r = entry.root;
  const mdv = r.minDeltaValue;
  const kind = typeof mdv === 'number' ? 'number' : String(mdv).toLowerCase() === 'always' ? 'always' : 'any';
  return {
    interval: { 1: String(r.level1.interval), 2: String(r.level2.interval), 3: String(r.level3.interval) },
    retention: { 1: String(r.level1.retention), 2: String(r.level2.retention), 3: String(r.level3.retention) },
    minDeltaKind: kind,
    minDeltaNumber: typeof mdv === 'number' ? String(mdv) : '',
    minDeltaTime: String(r.minDeltaTime),
  };
}

/** The body of `PUT …/logs`: what the form says, numbers as typed so that the API judges them. */
function bodyOf(form: Form): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const n of LEVELS) body[`level${n}`] = { interval: numberOrText(form.interval[n]) ?? 0, retention: numberOrText(form.retention[n]) ?? 0 };
  body.minDeltaValue = form.minDeltaKind === 'number' ? (numberOrText(form.minDeltaNumber) ?? '') : form.minDeltaKind;
  body.minDeltaTime = numberOrText(form.minDeltaTime) ?? 0;
  return body;
}

/** Which field an API validation message names (`level1.retention`, `minDeltaValue`, …). */
function fieldOfMessage(text: string): string | undefined {
  return /level[123]\.(interval|retention)|minDeltaValue|minDeltaTime/.exec(text)?.[0];
}

/** View and edit one datapoint's three levels, minDeltaValue and minDeltaTime; the API validates. */
export function DatapointEditor({ entry, onSaved }: { entry: DatapointEntry; onSaved: (e: DatapointEntry) => void }) {
  const [form, setForm] = useState<Form>(() => formOf(entry));
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState<string>();
  const [busy, setBusy] = useState(false);
  const invalid = error ? fieldOfMessage(error) : undefined;
  const name = `${entry.deviceId} / ${entry.blockName} / ${entry.blockIndex} / ${entry.datapointName}`;

  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setSaved(undefined);
    try {
      const reply = await api<DatapointEntry[]>(logsPath(datapointAddress(entry)), { method: 'PUT', body: bodyOf(form) });
      const updated = reply.find((d) => d.deviceId === entry.deviceId && d.blockName === entry.blockName && d.blockIndex === entry.blockIndex && d.datapointName === entry.datapointName);
      if (updated) {
        setForm(formOf(updated));
        onSaved(updated);
      }
      setSaved('Saved. New updates are logged with this configuration.');
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };

  const input = (id: string, label: string, value: string, set: (v: string) => void, unit: string) => (
    <label>
      {label}
      <span class="with-unit">
        <input
          id={id}
          name={id}
          value={value}
          inputMode="decimal"
          autocomplete="off"
          aria-invalid={invalid === id ? true : undefined}
          aria-describedby={invalid === id ? 'editor-error' : undefined}
          onInput={(e) => set(e.currentTarget.value)}
        />
        <span class="unit">{unit}</span>
      </span>
    </label>
  );

  return (
    <section class="editor" aria-labelledby="editor-title" data-testid="editor">
      <h2 id="editor-title">Logging of {name}</h2>
      <p class="hint">
        A level is active when its retention is above 0; it logs at most once per interval (0: every update that passes the deltas). Values are tagged
        with every level that logged them.
      </p>
      <form onSubmit={(e) => void save(e)}>
        <div class="levels">
          {LEVELS.map((n) => (
            <fieldset key={n}>
              <legend>Level {n}</legend>
              {input(`level${n}.interval`, 'Interval', form.interval[n], (v) => setForm((f) => ({ ...f, interval: { ...f.interval, [n]: v } })), 'seconds')}
              {input(`level${n}.retention`, 'Retention', form.retention[n], (v) => setForm((f) => ({ ...f, retention: { ...f.retention, [n]: v } })), 'days')}
            </fieldset>
          ))}
          <fieldset>
            <legend>Deltas</legend>
            <label>
              minDeltaValue
              <select
                value={form.minDeltaKind}
                aria-invalid={invalid === 'minDeltaValue' ? true : undefined}
                onChange={(e) => setForm((f) => ({ ...f, minDeltaKind: e.currentTarget.value as Form['minDeltaKind'] }))}
              >
                <option value="any">any: log when the value changes</option>
                <option value="always">always: log every update</option>
                <option value="number">a minimum change</option>
              </select>
            </label>
            {form.minDeltaKind === 'number'
              ? input('minDeltaValue', 'Minimum change', form.minDeltaNumber, (v) => setForm((f) => ({ ...f, minDeltaNumber: v })), '')
              : null}
            {input('minDeltaTime', 'minDeltaTime', form.minDeltaTime, (v) => setForm((f) => ({ ...f, minDeltaTime: v })), 'seconds')}
          </fieldset>
        </div>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save logging'}
        </button>{' '}
        <button type="button" disabled={busy} onClick={() => setForm(formOf(entry))}>
          Reset
        </button>
        {error ? (
          <p role="alert" id="editor-error" class="error" data-testid="editor-error">
            {error}
          </p>
        ) : null}
        <p role="status" class="notice">
          {saved ?? ''}
        </p>
      </form>
    </section>
  );
}
