import type { DatapointLogStores } from '../../domain/datapoint-logs/ports';
import { documentClient } from '../../shared/clients';
import { ENV, requireEnv } from '../../shared/config';
import { DatapointLogStore } from './datapoint-log-store';
import { ValueStore } from './value-store';

/** Both datapoint log stores over the function's table (`DATAPOINT_LOG_TABLE`), sharing one document client. */
export function datapointLogStores(): DatapointLogStores {
  const doc = documentClient();
  const table = requireEnv(ENV.datapointLogTable);
  return { registry: new DatapointLogStore(doc, table), values: new ValueStore(doc, table) };
}
