/**
 * `npm run migrate:registry -- --table <name> [--checkpoint <file>] [--dry-run]`: moves the datapoint
 * registry from the single partition per OEM (`OEM#<oem>`) to its buckets (`OEM#<oem>#<bb>`, see
 * lambdas/domain/datapoint-logs/keys.ts). Run it once after deploying the code that reads the buckets.
 *
 * - Datapoints: copied as they are (id, configuration, times, the logger's state) to the bucket of
 *   their device, unless the bucket has them already (the logger moves a datapoint it sees on its own,
 *   from the same item); then the old item is deleted.
 * - Devices: each attribute (state, health, time zone) set in the bucket only if newer than what is
 *   there (events since the deploy win), then the old item is deleted.
 * - The id counter stays where it is (`OEM#<oem>` / `COUNTER#datapoint`).
 *
 * Idempotent (a moved item is gone from its old key; running again finds nothing to do) and resumable:
 * after each page of the scan the position is saved to the checkpoint file, and a run with the same
 * file starts from there (a run from the start is just as correct, only slower). It scans the whole
 * table (values included) once, with the operator's credentials: no function of the stack may Scan.
 * Credentials and endpoint come from the environment as for the aws CLI (`AWS_ENDPOINT_URL` for the
 * local cloud).
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { readFile, writeFile } from 'node:fs/promises';
import { registryPartition } from '../lambdas/domain/datapoint-logs/keys';

type Item = Record<string, unknown>;

/** An OEM's partition before the buckets: `OEM#<escaped oem>`, with no further `#`. */
const LEGACY_PARTITION = /^OEM#[^#]*$/;
const unescape = (component: string) => component.replace(/%23/g, '#').replace(/%25/g, '%');

export interface MigrationProgress {
  scanned: number;
  datapoints: number;
  devices: number;
  /** Datapoints the bucket had already (moved by the logger): only the old item deleted. */
  alreadyMoved: number;
}

export interface MigrationOptions {
  /** Where the scan starts (a previous run's checkpoint). */
  startKey?: Item;
  /** Called after each page with the position to resume from (undefined: the scan is done). */
  checkpoint?: (key: Item | undefined, progress: MigrationProgress) => Promise<void>;
  /** Stop after this many pages (tests: an interrupted run). */
  maxPages?: number;
  dryRun?: boolean;
  pageSize?: number;
}

async function moveDatapoint(doc: DynamoDBDocumentClient, table: string, item: Item, oemId: string): Promise<boolean> {
  const pk = registryPartition(oemId, item.dsn as string);
  try {
    await doc.send(new PutCommand({ TableName: table, Item: { ...item, pk, gsi1pk: pk }, ConditionExpression: 'attribute_not_exists(pk)' }));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

async function moveDevice(doc: DynamoDBDocumentClient, table: string, item: Item, oemId: string): Promise<void> {
  const dsn = item.dsn as string;
  const key = { pk: registryPartition(oemId, dsn), sk: item.sk };
  for (const attribute of ['state', 'health', 'timeZone'] as const) {
    const at = item[`${attribute}At`];
    if (item[attribute] === undefined || typeof at !== 'number') continue;
    await doc.send(new UpdateCommand({
      TableName: table,
      Key: key,
      UpdateExpression: 'SET #a = :v, #at = :at, dsn = :dsn, #type = :type',
      ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
      ExpressionAttributeNames: { '#a': attribute, '#at': `${attribute}At`, '#type': 'type' },
      ExpressionAttributeValues: { ':v': item[attribute], ':at': at, ':dsn': dsn, ':type': 'device' },
    })).catch((error: unknown) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
  }
}

/** Moves every legacy registry item of `table` to its bucket; returns what it did. */
export async function migrateRegistry(doc: DynamoDBDocumentClient, table: string, options: MigrationOptions = {}): Promise<MigrationProgress & { done: boolean }> {
  const progress: MigrationProgress = { scanned: 0, datapoints: 0, devices: 0, alreadyMoved: 0 };
  let startKey = options.startKey;
  for (let pages = 0; ; pages++) {
    if (options.maxPages !== undefined && pages >= options.maxPages) return { ...progress, done: false };
    const page = await doc.send(new ScanCommand({
      TableName: table,
      FilterExpression: 'begins_with(pk, :oem) AND (begins_with(sk, :dp) OR begins_with(sk, :dev))',
      ExpressionAttributeValues: { ':oem': 'OEM#', ':dp': 'DP#', ':dev': 'DEV#' },
      ExclusiveStartKey: startKey,
      Limit: options.pageSize ?? 1000,
    }));
    progress.scanned += page.ScannedCount ?? 0;
    for (const item of page.Items ?? []) {
      const pk = item.pk as string;
      if (!LEGACY_PARTITION.test(pk)) continue;
      const oemId = unescape(pk.slice('OEM#'.length));
      const isDatapoint = (item.sk as string).startsWith('DP#');
      if (options.dryRun) {
        if (isDatapoint) progress.datapoints++;
        else progress.devices++;
        continue;
      }
      if (isDatapoint) {
        if (await moveDatapoint(doc, table, item, oemId)) progress.datapoints++;
        else progress.alreadyMoved++;
      } else {
        await moveDevice(doc, table, item, oemId);
        progress.devices++;
      }
      await doc.send(new DeleteCommand({ TableName: table, Key: { pk, sk: item.sk } }));
    }
    startKey = page.LastEvaluatedKey;
    await options.checkpoint?.(startKey, progress);
    if (!startKey) return { ...progress, done: true };
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const table = value('--table');
  if (!table) {
    process.stderr.write('usage: npm run migrate:registry -- --table <datapoint log table> [--checkpoint <file>] [--dry-run]\n');
    process.exit(2);
  }
  const file = value('--checkpoint');
  const saved = file ? await readFile(file, 'utf8').then((text) => JSON.parse(text) as { startKey?: Item; done?: boolean }).catch(() => undefined) : undefined;
  if (saved?.done) {
    process.stdout.write(`${file} says the migration finished; delete it to run again\n`);
    return;
  }
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  const result = await migrateRegistry(doc, table, {
    ...(saved?.startKey ? { startKey: saved.startKey } : {}),
    dryRun: args.includes('--dry-run'),
    checkpoint: async (key, progress) => {
      if (file) await writeFile(file, `${JSON.stringify({ startKey: key, done: key === undefined, progress })}\n`);
      process.stderr.write(`scanned ${progress.scanned}: ${progress.datapoints} datapoints, ${progress.devices} devices moved, ${progress.alreadyMoved} already moved\n`);
    },
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`${error.name}: ${error.message}\n`);
    process.exit(1);
  });
}
