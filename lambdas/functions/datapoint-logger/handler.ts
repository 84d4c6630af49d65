import type { KinesisStreamHandler } from 'aws-lambda';
import { datapointLogStores } from '../../adapters/dynamodb/datapoint-log-stores';
import { batchResponse, streamRecords, type StreamBatchHandler } from '../../adapters/kinesis-batch';
import { logBatch } from '../../domain/datapoint-logs/log-datapoints';
import type { DatapointLogStores } from '../../domain/datapoint-logs/ports';
import { MAX_LOGGED_VALUE_BYTES, VALUE_PROBLEMS } from '../../domain/datapoint-logs/storable';
import { logger } from '../../shared/logger';
import { count, METRIC, withMetrics } from '../../shared/metrics';

export interface Deps {
  stores: DatapointLogStores;
  /** The clock (epoch ms). */
  now: () => number;
}

export function defaultDeps(): Deps {
  return { stores: datapointLogStores(), now: Date.now };
}

/**
 * Device events → the datapoint registry (devices, datapoints) and the datapoint logs. Invalid
 * records are skipped here (the exporter keeps them) and counted by reason in the batch line; an update
 * DynamoDB could not store is rejected alone, with a WARN naming its datapoint and the reason (a value
 * too large: its size and the limit; never the event or its value), counted in the batch line
 * (`rejected`, of them `tooLarge`); an OEM whose writes failed is retried from its first record.
 */
export function makeHandler(deps: Deps): StreamBatchHandler {
  return withMetrics(async (event, context) => {
    logger.addContext(context);
    const { failures, rejections, ...counts } = await logBatch(streamRecords(event), deps.stores, deps.now());
    for (const { oemId, ref, eventId, reason, bytes } of rejections) {
      logger.warn('Datapoint update not logged: DynamoDB cannot store it', {
        oemId,
        datapoint: `${ref.dsn}/${ref.block}/${ref.blockIndex}/${ref.name}`,
        ...(eventId !== undefined ? { eventId: eventId.slice(0, 100) } : {}),
        reason,
        detail: reason === 'key-too-long' ? 'the datapoint\'s key would exceed 1,024 bytes or is not well-formed text' : VALUE_PROBLEMS[reason],
        // Sizes only, never the value.
        ...(bytes !== undefined ? { valueBytes: bytes, limitBytes: MAX_LOGGED_VALUE_BYTES } : {}),
      });
    }
    for (const failure of failures) logger.error('Datapoint log update failed', { oemId: failure.oemId, error: failure.error });
    logger.info('Batch logged', { ...counts, failedOems: failures.length });
    count(METRIC.valuesLogged, counts.logged);
    count(METRIC.valuesSkipped, counts.skipped);
    count(METRIC.valuesRejected, counts.rejected);
    count(METRIC.logWriteFailures, failures.length);
    return batchResponse(failures.map((failure) => failure.from));
  });
}

export const handler = makeHandler(defaultDeps()) satisfies KinesisStreamHandler;
