import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, message } from '../api';
import { valuesPath } from '../lib/address';
import { seriesOf, valueText, valuesCsv, type LoggedValue } from '../lib/csv';
import { chooseLevel, describeSeconds, presetRange, type LevelChoice, type RangeName } from '../lib/levels';
import type { DatapointEntry } from './datapoint-logs';

interface Page {
  resources: LoggedValue[];
  next?: string;
}

/** At most this many values are read for one chart (ten pages of 1,000). */
const MAX_VALUES = 10_000;
const PAGE_SIZE = 1000;

const RANGES: { name: RangeName; label: string }[] = [
  { name: 'week', label: 'Last week' },
  { name: 'six-months', label: 'Last 6 months' },
  { name: 'five-years', label: 'Last 5 years' },
  { name: 'custom', label: 'Custom' },
];

const dateInput = (ms: number) => new Date(ms).toISOString().slice(0, 16);

/** A trend of one datapoint's logged values over a range, read from the level whose interval fits it. */
export function TrendChart({ entry }: { entry: DatapointEntry }) {
  const [range, setRange] = useState<RangeName>('week');
  const [custom, setCustom] = useState(() => {
    const { from, to } = presetRange('week', Date.now());
    return { from: dateInput(from), to: dateInput(to) };
  });
  const [view, setView] = useState<'chart' | 'table'>('chart');
  const [values, setValues] = useState<LoggedValue[]>();
  const [shown, setShown] = useState<{ from: number; to: number; choice: LevelChoice; capped: boolean }>();
  const [error, setError] = useState<string>();
  const [notLogged, setNotLogged] = useState(false);
  const [busy, setBusy] = useState(false);
  // Only the latest load shows: a slower earlier one (another range) is dropped when it ends.
  const latest = useRef(0);

  const load = async () => {
    const ticket = ++latest.current;
    setError(undefined);
    setNotLogged(false);
    const now = Date.now();
    const span = range === 'custom' ? { from: Date.parse(`${custom.from}Z`), to: Date.parse(`${custom.to}Z`) } : presetRange(range, now);
    if (!Number.isFinite(span.from) || !Number.isFinite(span.to) || span.from >= span.to) {
      setError('Choose a start before the end (times in UTC).');
      return;
    }
    const r = entry.root;
    const choice = chooseLevel({ 1: r.level1, 2: r.level2, 3: r.level3 }, span.from, span.to, now);
    if (!choice) {
      setValues(undefined);
      setShown(undefined);
      setNotLogged(true);
      return;
    }
    setBusy(true);
    try {
      const path = valuesPath(entry, choice.level, new Date(span.from), new Date(span.to));
      const all: LoggedValue[] = [];
      let page = 0;
      let next: string | undefined;
      do {
        const query = new URLSearchParams({ pg: String(page), sz: String(PAGE_SIZE), ...(next ? { xs: next } : {}) });
        const reply = await api<Page>(`${path}?${query.toString()}`);
        if (ticket !== latest.current) return;
        all.push(...reply.resources);
        next = reply.next;
        page++;
      } while (next && all.length < MAX_VALUES);
      setValues(all);
      setShown({ ...span, choice, capped: next !== undefined });
    } catch (e) {
      if (ticket === latest.current) setError(message(e));
    } finally {
      if (ticket === latest.current) setBusy(false);
    }
  };

  // Loads again when the range preset or the datapoint's levels change; a custom range loads on Show.
  const levels = JSON.stringify([entry.root.level1, entry.root.level2, entry.root.level3]);
  useEffect(() => {
    void load();
  }, [range, levels]);

  const csvUrl = useMemo(() => (values ? URL.createObjectURL(new Blob([valuesCsv(values)], { type: 'text/csv' })) : undefined), [values]);
  useEffect(() => () => (csvUrl ? URL.revokeObjectURL(csvUrl) : undefined), [csvUrl]);

  return (
    <section class="trend" aria-labelledby="trend-title" data-testid="trend">
      <h2 id="trend-title">Trend of {entry.datapointName}</h2>
      <form
        class="range"
        onSubmit={(e) => {
          e.preventDefault();
          void load();
        }}
      >
        <fieldset>
          <legend>Range</legend>
          {RANGES.map((r) => (
            <label key={r.name} class="radio">
              <input type="radio" name="range" value={r.name} checked={range === r.name} onChange={() => setRange(r.name)} />
              {r.label}
            </label>
          ))}
        </fieldset>
        {range === 'custom' ? (
          <div class="custom">
            <label>
              From (UTC)
              <input type="datetime-local" value={custom.from} onInput={(e) => setCustom((c) => ({ ...c, from: e.currentTarget.value }))} />
            </label>
            <label>
              To (UTC)
              <input type="datetime-local" value={custom.to} onInput={(e) => setCustom((c) => ({ ...c, to: e.currentTarget.value }))} />
            </label>
            <button type="submit" disabled={busy}>
              Show
            </button>
          </div>
        ) : null}
      </form>
      {error ? <p role="alert" class="error">{error}</p> : null}
      {notLogged ? (
        <p role="status" class="info">
          This datapoint is not logged: give a level a retention above 0 to log it.
        </p>
      ) : null}
      {busy ? <p role="status">Loading values…</p> : null}
      {shown && values ? (
        <>
          <p class="hint" data-testid="level-choice">
            Level {shown.choice.level} (interval {describeSeconds(shown.choice.interval)}, kept {shown.choice.retention} days): {shown.choice.reason}.{' '}
            {values.length} value{values.length === 1 ? '' : 's'} from {new Date(shown.from).toISOString().slice(0, 16).replace('T', ' ')} to{' '}
            {new Date(shown.to).toISOString().slice(0, 16).replace('T', ' ')} UTC
            {shown.capped ? ` (the first ${values.length}; narrow the range to see the rest)` : ''}.
          </p>
          <div class="toolbar" role="group" aria-label="View">
            <button type="button" aria-pressed={view === 'chart'} onClick={() => setView('chart')}>
              Chart
            </button>
            <button type="button" aria-pressed={view === 'table'} onClick={() => setView('table')}>
              Table
            </button>
            {csvUrl ? (
              <a class="button" href={csvUrl} download={`${entry.deviceId}_${entry.datapointName}_level${shown.choice.level}.csv`}>
                Download CSV
              </a>
            ) : null}
          </div>
          {view === 'chart' ? <Plot values={values} from={shown.from} to={shown.to} label={entry.datapointName} /> : <ValuesTable values={values} />}
        </>
      ) : null}
    </section>
  );
}

function Plot({ values, from, to, label }: { values: LoggedValue[]; from: number; to: number; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const data = useMemo(() => seriesOf(values), [values]);
  const plottable = data[1].some((v) => v !== null);

  useEffect(() => {
    const el = box.current;
    if (!el || !plottable) return;
    const width = () => Math.max(280, el.clientWidth);
    const chart = new uPlot(
      {
        width: width(),
        height: 320,
        scales: { x: { time: true, range: [from / 1000, to / 1000] } },
        series: [{ label: 'UTC' }, { label, stroke: '#1f5fa8', width: 2, points: { show: values.length <= 200 }, spanGaps: false }],
        axes: [{ stroke: '#333' }, { stroke: '#333' }],
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      },
      data,
      el,
    );
    const observer = new ResizeObserver(() => chart.setSize({ width: width(), height: 320 }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [data, from, to, label, plottable]);

  if (values.length === 0) return <p role="status">No values were logged at this level in this range.</p>;
  if (!plottable) return <p role="status">These values are not numbers: see them in the table.</p>;
  return <div ref={box} class="plot" role="img" aria-label={`Chart of ${values.length} logged values of ${label}; the table view lists them`} data-testid="plot" />;
}

function ValuesTable({ values }: { values: LoggedValue[] }) {
  if (values.length === 0) return <p role="status">No values were logged at this level in this range.</p>;
  return (
    <div class="scroll tall" tabIndex={0} role="region" aria-label="Logged values">
      <table data-testid="values">
        <thead>
          <tr>
            <th scope="col">UTC</th>
            <th scope="col">Local</th>
            <th scope="col" class="num">
              Value
            </th>
            <th scope="col">Levels</th>
          </tr>
        </thead>
        <tbody>
          {values.map((v) => (
            <tr key={v.id}>
              <td>{v.utc}</td>
              <td>{v.local}</td>
              <td class="num">{valueText(v.value)}</td>
              <td>{v.tags.map((t) => Object.keys(t).join('')).join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
