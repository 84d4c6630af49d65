import { isWindowComplete } from './compaction';
import { mapLimit, READS_IN_FLIGHT } from './concurrency';
import { DISPATCHED_PREFIX, dispatchedKey, manifestKey, STAGING_PREFIX, stagingWindowOf, stagingWindowPrefix } from './layout';
import { manifestPartitions, parseManifest, type Manifest, type ManifestObject } from './manifest';
import type { CompactionQueue, ExportStore, StoredObject } from './ports';
import { decodeHeader } from './staging';
import { MINUTE_MS, parseWindowKey, windowKey } from './windows';

/**
 * The compaction planner, run every minute: for each closed window not planned yet, fixes the window's
 * manifest (its staged objects, plus leftovers of older windows) and sends one message per partition.
 */

/** How many closed windows back the planner looks, besides windows still present under `_staging/`. */
export const PLANNER_LOOKBACK_WINDOWS = 12;
/** Default wait after a window's end before it is planned (context `exportCompactionDelaySeconds`). */
export const DEFAULT_GRACE_SECONDS = 15;

export interface PlannerOptions {
  windowMs: number;
  /** Wait after a window's end before planning it, ms: lets PUTs begun inside the window complete. */
  graceMs: number;
  /** Reads in flight (default {@link READS_IN_FLIGHT}). */
  concurrency?: number;
}

/** How long to wait so that planning starts `grace` seconds past the minute (0 when already past). */
export function planningDelay(nowMs: number, graceMs: number): number {
  const target = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS + (graceMs % MINUTE_MS);
  return Math.max(0, target - nowMs);
}

/**
 * The windows to plan, oldest first: every window closed for `grace` (end + grace ≤ now) among the
 * last {@link PLANNER_LOOKBACK_WINDOWS}, and any closed window still holding staged objects, except
 * those already dispatched. Oldest first, so each partition's tasks are queued in window order.
 */
export function windowsToPlan(nowMs: number, options: PlannerOptions, dispatched: ReadonlySet<string>, staged: Iterable<string>): string[] {
  const lastClosed = Math.floor((nowMs - options.graceMs) / options.windowMs) * options.windowMs - options.windowMs;
  const starts = new Set<number>();
  for (let k = 0; k < PLANNER_LOOKBACK_WINDOWS; k++) starts.add(lastClosed - k * options.windowMs);
  for (const window of staged) {
    const start = parseWindowKey(window);
    if (start !== undefined && start <= lastClosed) starts.add(start);
  }
  return [...starts].sort((a, b) => a - b).map(windowKey).filter((w) => !dispatched.has(w));
}

/**
 * Leftovers: staged objects under an older window's prefix that no manifest still in compaction
 * holds: a PUT that completed after its window was planned, or an object a completed window should
 * have removed (its cleanup stopped, or a redelivered batch wrote the same key again afterwards).
 * They join the window being planned; their rows are checked against the row hashes of the windows
 * since their arrival, so none is exported twice, and that window's cleanup removes them.
 */
export function findLeftovers(olderObjects: readonly StoredObject[], manifestsInCompaction: readonly Manifest[]): StoredObject[] {
  const claimed = new Set<string>();
  for (const manifest of manifestsInCompaction) for (const o of manifest.objects) claimed.add(o.key);
  return olderObjects.filter((o) => !claimed.has(o.key));
}

/** The manifest of `window` over `objects` (sorted by key) with their headers' partition ranges. */
export function buildManifest(window: string, options: PlannerOptions, objects: readonly ManifestObject[]): Manifest {
  const start = parseWindowKey(window)!;
  return {
    v: 1,
    window,
    windowMs: options.windowMs,
    writtenAt: new Date(start + options.windowMs + options.graceMs).toISOString(),
    objects: [...objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
  };
}

/** An object's partition ranges, from its header (read with growing ranged GETs until its line end). */
async function readPartitions(store: ExportStore, object: StoredObject): Promise<ManifestObject> {
  for (let length = Math.min(8192, object.size); ; length = Math.min(length * 4, object.size)) {
    const bytes = await store.getBytes(object.key, { start: 0, end: length - 1 });
    if (bytes === undefined) throw new Error(`staged object ${object.key} disappeared while planning`);
    const decoded = decodeHeader(bytes);
    if (decoded) return { key: object.key, size: object.size, partitions: decoded.header.partitions };
    if (length >= object.size) throw new Error(`staged object ${object.key} has no header`);
  }
}

export interface PlannedWindow {
  window: string;
  objects: number;
  leftovers: number;
  partitions: number;
  /** The manifest existed already (an earlier run stopped before dispatching). */
  reused: boolean;
}

/** Plans every window due at `nowMs`. Safe to repeat and to run twice at once (manifests are created once). */
export async function planCompaction(store: ExportStore, queue: CompactionQueue, nowMs: number, options: PlannerOptions): Promise<PlannedWindow[]> {
  const concurrency = options.concurrency ?? READS_IN_FLIGHT;
  const dispatched = new Set((await store.list(DISPATCHED_PREFIX)).objects.map((o) => o.key.slice(DISPATCHED_PREFIX.length)));
  const stagedWindows = (await store.list(STAGING_PREFIX, '/')).prefixes.map(stagingWindowOf).filter((w): w is string => w !== undefined);
  const staged = new Set(stagedWindows);

  const listings = new Map<string, Promise<StoredObject[]>>();
  const listWindow = (window: string) => {
    let listing = listings.get(window);
    if (!listing) listings.set(window, (listing = store.list(stagingWindowPrefix(parseWindowKey(window)!)).then((l) => l.objects)));
    return listing;
  };
  const manifests = new Map<string, Promise<Manifest | undefined>>();
  const readManifest = (window: string) => {
    let manifest = manifests.get(window);
    if (!manifest) manifests.set(window, (manifest = store.getText(manifestKey(window)).then((t) => (t === undefined ? undefined : parseManifest(t)))));
    return manifest;
  };

  const completion = new Map<string, Promise<boolean>>();
  const isComplete = (manifest: Manifest) => {
    let complete = completion.get(manifest.window);
    if (!complete) completion.set(manifest.window, (complete = isWindowComplete(store, manifest)));
    return complete;
  };

  const planned: PlannedWindow[] = [];
  for (const window of windowsToPlan(nowMs, options, dispatched, staged)) {
    let manifest = await readManifest(window);
    const reused = manifest !== undefined;
    let leftovers = 0;
    if (!manifest) {
      const own = staged.has(window) ? await listWindow(window) : [];
      const extra: StoredObject[] = [];
      for (const older of stagedWindows.filter((w) => w < window && dispatched.has(w))) {
        const objects = await listWindow(older);
        if (objects.length === 0) continue;
        const claiming = [...dispatched].filter((w) => w >= older && w < window);
        const found = (await Promise.all(claiming.map(readManifest))).filter((m): m is Manifest => m !== undefined);
        const inCompaction = [];
        for (const manifest of found) if (!(await isComplete(manifest))) inCompaction.push(manifest);
        extra.push(...findLeftovers(objects, inCompaction));
      }
      leftovers = extra.length;
      const objects = await mapLimit([...own, ...extra], concurrency, (o) => readPartitions(store, o));
      const built = buildManifest(window, options, objects);
      if ((await store.createIfAbsent(manifestKey(window), JSON.stringify(built), 'application/json')) === 'created') manifest = built;
      else {
        // Another run created it first: its content is the window's.
        const text = await store.getText(manifestKey(window));
        if (text === undefined) throw new Error(`manifest of ${window} exists but cannot be read`);
        manifest = parseManifest(text);
      }
      manifests.set(window, Promise.resolve(manifest));
    }
    const partitions = manifestPartitions(manifest);
    await queue.send(partitions.map((partition) => ({ window, partition })));
    await store.put(dispatchedKey(window), '', 'text/plain');
    dispatched.add(window);
    planned.push({ window, objects: manifest.objects.length, leftovers, partitions: partitions.length, reused });
  }
  return planned;
}
