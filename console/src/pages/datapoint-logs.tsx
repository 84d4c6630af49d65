import { useState } from 'preact/hooks';
import { api, message } from '../api';
import { addressFromFields, AddressInputError, EMPTY_SEARCH, formatAddress, logsPath, parseAddress, type Address, type SearchFields } from '../lib/address';
import { describeSeconds } from '../lib/levels';
import { DatapointEditor } from './datapoint-editor';
import { TrendChart } from './trend-chart';

export interface LevelConfig {
  interval: number;
  retention: number;
  logMultiple: number | null;
}

export interface Root {
  level1: LevelConfig;
  level2: LevelConfig;
  level3: LevelConfig;
  minDeltaTime: number;
  minDeltaValue: string | number;
}

/** An entry of a `…/logs` reply: one datapoint and its whole configuration. */
export interface DatapointEntry {
  id: number;
  deviceId: string;
  deviceName: string;
  blockName: string;
  blockIndex: string;
  datapointName: string;
  deviceState: string;
  deviceHealth: string;
  root: Root;
}

interface Paged<T> {
  snapshot: number;
  resources: T[];
  remainingPages: number;
}

const PAGE_SIZE = 25;

const keyOf = (d: DatapointEntry) => `${d.deviceId}/${d.blockName}/${d.blockIndex}/${d.datapointName}`;

export function DatapointLogsPage() {
  const [fields, setFields] = useState<SearchFields>(EMPTY_SEARCH);
  const [addressText, setAddressText] = useState(formatAddress(addressFromFields(EMPTY_SEARCH)));
  const [results, setResults] = useState<{ address: Address; page: number; snapshot: number; items: DatapointEntry[]; remaining: number }>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [selected, setSelected] = useState<DatapointEntry>();

  const update = (patch: Partial<SearchFields>) => {
    const next = { ...fields, ...patch };
    setFields(next);
    setAddressText(formatAddress(addressFromFields(next)));
  };

  const search = async (address: Address, page: number, snapshot?: number) => {
    setBusy(true);
    setError(undefined);
    try {
      const query = new URLSearchParams({ pg: String(page), sz: String(PAGE_SIZE), ...(snapshot !== undefined ? { xs: String(snapshot) } : {}) });
      const reply = await api<Paged<DatapointEntry>>(`${logsPath(address)}?${query.toString()}`);
      setResults({ address, page, snapshot: reply.snapshot, items: reply.resources, remaining: reply.remainingPages });
    } catch (e) {
      setError(message(e));
      setResults(undefined);
    } finally {
      setBusy(false);
    }
  };

  const onSubmit = (event: Event) => {
    event.preventDefault();
    try {
      setSelected(undefined);
      void search(parseAddress(addressText), 0);
    } catch (e) {
      setError(e instanceof AddressInputError ? e.message : message(e));
    }
  };

  const onSaved = (entry: DatapointEntry) => {
    setSelected(entry);
    setResults((r) => r && { ...r, items: r.items.map((d) => (keyOf(d) === keyOf(entry) ? entry : d)) });
  };

  return (
    <section aria-labelledby="logs-title">
      <h1 id="logs-title">Datapoint logs</h1>
      <p class="lead">
        Choose which datapoints are logged, how often and for how long (three levels), and see their logged values over time.
      </p>
      <form class="search" onSubmit={onSubmit} aria-label="Search datapoints">
        <div class="grid">
          <label>
            Device (DSN)
            <input value={fields.device} onInput={(e) => update({ device: e.currentTarget.value })} placeholder="any" autocomplete="off" />
          </label>
          <label>
            Device health
            <select value={fields.deviceHealth} onChange={(e) => update({ deviceHealth: e.currentTarget.value })}>
              <option value="">any</option>
              <option value="normal">normal</option>
              <option value="down">down</option>
              <option value="suspect">suspect</option>
              <option value="nascent">nascent</option>
            </select>
          </label>
          <label>
            Block
            <input value={fields.block} onInput={(e) => update({ block: e.currentTarget.value })} placeholder="any" autocomplete="off" />
          </label>
          <label>
            Block index
            <input value={fields.blockIndex} onInput={(e) => update({ blockIndex: e.currentTarget.value })} placeholder="any" inputMode="numeric" autocomplete="off" />
          </label>
          <label>
            Datapoint
            <input value={fields.datapoint} onInput={(e) => update({ datapoint: e.currentTarget.value })} placeholder="any" autocomplete="off" />
          </label>
          <label>
            Logged at level
            <select value={fields.tag} onChange={(e) => update({ tag: e.currentTarget.value })}>
              <option value="">any (or none)</option>
              <option value="log_level_1">level 1 active</option>
              <option value="log_level_2">level 2 active</option>
              <option value="log_level_3">level 3 active</option>
            </select>
          </label>
          <label class="check">
            <input type="checkbox" checked={fields.regex} onChange={(e) => update({ regex: e.currentTarget.checked })} />
            Names are regular expressions
          </label>
        </div>
        <label class="wide">
          IAP address
          <input
            value={addressText}
            onInput={(e) => setAddressText(e.currentTarget.value)}
            spellcheck={false}
            autocomplete="off"
            aria-describedby="address-help"
            data-testid="address"
          />
        </label>
        <p id="address-help" class="hint">
          Built from the fields above, or write it yourself: each element is a literal, <code>*</code>, or <code>*+key op value</code> joined by{' '}
          <code>&amp;</code> (operators <code>== != =+ !+ &lt; &lt;= &gt; =&gt;</code>; <code>=+</code> is a case-insensitive regular expression), e.g.{' '}
          <code>devs/*+health==down/if/*/*/*+name=+^nvo&amp;tag==log_level_1</code>.
        </p>
        <button type="submit" class="primary" disabled={busy}>
          Search
        </button>
      </form>
      {error ? <p role="alert" class="error">{error}</p> : null}
      {results ? (
        <Results
          results={results}
          busy={busy}
          selected={selected}
          onSelect={setSelected}
          onPage={(page) => void search(results.address, page, results.snapshot)}
        />
      ) : null}
      {selected ? <DatapointEditor key={keyOf(selected)} entry={selected} onSaved={onSaved} /> : null}
      {selected ? <TrendChart key={`chart-${keyOf(selected)}`} entry={selected} /> : null}
    </section>
  );
}

function levelSummary(root: Root): string {
  const active = ([1, 2, 3] as const).filter((n) => root[`level${n}`].retention > 0);
  if (active.length === 0) return 'not logged';
  return active.map((n) => `L${n}: ${describeSeconds(root[`level${n}`].interval)}, ${root[`level${n}`].retention} d`).join(' · ');
}

function Results(props: {
  results: { page: number; items: DatapointEntry[]; remaining: number };
  busy: boolean;
  selected?: DatapointEntry;
  onSelect: (d: DatapointEntry) => void;
  onPage: (page: number) => void;
}) {
  const { results } = props;
  return (
    <div class="results">
      <h2 id="results-title">Matching datapoints</h2>
      <p role="status">
        {results.items.length === 0 ? 'No datapoint matches this address.' : `Page ${results.page + 1}: ${results.items.length} datapoints.`}
      </p>
      {results.items.length > 0 ? (
        <div class="scroll">
          <table aria-labelledby="results-title" data-testid="datapoints">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Block</th>
                <th scope="col">Index</th>
                <th scope="col">Datapoint</th>
                <th scope="col">Logging</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {results.items.map((d) => {
                const current = props.selected && keyOf(props.selected) === keyOf(d);
                return (
                  <tr key={keyOf(d)} class={current ? 'current' : undefined}>
                    <td>
                      {d.deviceId} <span class={`badge ${d.deviceHealth}`}>{d.deviceHealth}</span>
                    </td>
                    <td>{d.blockName}</td>
                    <td>{d.blockIndex}</td>
                    <th scope="row">{d.datapointName}</th>
                    <td>{levelSummary(d.root)}</td>
                    <td>
                      <button type="button" aria-pressed={current} onClick={() => props.onSelect(d)} aria-label={`Open ${d.datapointName} of ${d.deviceId}`}>
                        Open
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <div class="pager">
        <button type="button" disabled={props.busy || results.page === 0} onClick={() => props.onPage(results.page - 1)}>
          Previous page
        </button>
        <button type="button" disabled={props.busy || results.remaining === 0} onClick={() => props.onPage(results.page + 1)}>
          Next page
        </button>
      </div>
    </div>
  );
}
