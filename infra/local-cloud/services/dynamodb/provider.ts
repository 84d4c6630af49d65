import { DynamoDBClient, DescribeTableCommand, ScanCommand, BatchWriteItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { jsonError } from '../../aws-protocol/errors';
import { forward, json, type BufferedRequest, type LocalResponse } from '../../aws-protocol/http';
import { AMZ_JSON_1_0, forwardOperation, targetOperation } from '../../aws-protocol/json-protocol';
import { readState, StateWriter } from '../../aws-protocol/state-file';

interface TtlSetting {
  attributeName: string;
  enabled: boolean;
}

/** What dynalite does not keep about a table. */
interface TableSettings {
  ttl?: TtlSetting;
  pointInTimeRecovery?: boolean;
}

const JSON_10 = { 'content-type': AMZ_JSON_1_0 };

/**
 * DynamoDB in front of dynalite, adding what dynalite lacks: the TTL API (`UpdateTimeToLive`,
 * `DescribeTimeToLive`) with a sweeper that deletes expired items, as DynamoDB does (late, in the
 * background: readers must still filter expired items themselves), and the point-in-time recovery
 * setting (`UpdateContinuousBackups`, `DescribeContinuousBackups`; no backups are taken).
 */
export class DynamoDbGateway {
  private readonly tables: Record<string, TableSettings>;
  private readonly writer: StateWriter;
  private readonly client: DynamoDBClient;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly dynalitePort: number,
    stateFile: string,
    private readonly log: (message: string) => void,
  ) {
    this.tables = readState<Record<string, TableSettings>>(stateFile, {});
    this.writer = new StateWriter(stateFile);
    this.client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${dynalitePort}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  }

  readonly handle = async (request: BufferedRequest): Promise<LocalResponse> => {
    const operation = targetOperation(request);
    if (!SETTINGS_OPERATIONS.has(operation)) {
      const response = await forward(this.dynalitePort, request);
      if (operation === 'DeleteTable' && response.status === 200) {
        delete this.tables[(JSON.parse(request.body.toString('utf8')) as { TableName: string }).TableName];
        await this.persist();
      }
      return response;
    }
    const input = JSON.parse(request.body.toString('utf8') || '{}') as {
      TableName?: string;
      TimeToLiveSpecification?: { Enabled?: boolean; AttributeName?: string };
      PointInTimeRecoverySpecification?: { PointInTimeRecoveryEnabled?: boolean };
    };
    const table = input.TableName ?? '';
    const described = await forwardOperation(this.dynalitePort, request, 'DynamoDB_20120810.DescribeTable', { TableName: table });
    if (described.status !== 200) return described;
    const settings = (this.tables[table] ??= {});
    switch (operation) {
      case 'DescribeTimeToLive':
        return json(200, {
          TimeToLiveDescription: settings.ttl?.enabled
            ? { TimeToLiveStatus: 'ENABLED', AttributeName: settings.ttl.attributeName }
            : { TimeToLiveStatus: 'DISABLED' },
        }, JSON_10);
      case 'UpdateTimeToLive': {
        const spec = input.TimeToLiveSpecification;
        if (!spec?.AttributeName || typeof spec.Enabled !== 'boolean') {
          return validationError('TimeToLiveSpecification needs Enabled and AttributeName');
        }
        settings.ttl = { attributeName: spec.AttributeName, enabled: spec.Enabled };
        await this.persist();
        return json(200, { TimeToLiveSpecification: spec }, JSON_10);
      }
      case 'UpdateContinuousBackups': {
        const enabled = input.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled;
        if (typeof enabled !== 'boolean') return validationError('PointInTimeRecoverySpecification needs PointInTimeRecoveryEnabled');
        settings.pointInTimeRecovery = enabled;
        await this.persist();
        return json(200, continuousBackups(enabled), JSON_10);
      }
      default:
        return json(200, continuousBackups(settings.pointInTimeRecovery ?? false), JSON_10);
    }
  };

  /** Deletes every item whose TTL attribute (epoch seconds) is in the past. Returns how many. */
  sweep(nowSeconds = Math.floor(Date.now() / 1000)): Promise<number> {
    const run = (this.sweeping ?? Promise.resolve()).then(() => this.sweepOnce(nowSeconds));
    this.sweeping = run.then(() => undefined, () => undefined);
    return run;
  }

  private async sweepOnce(nowSeconds: number): Promise<number> {
    let deleted = 0;
    for (const [table, { ttl: setting }] of Object.entries(this.tables)) {
      if (!setting?.enabled) continue;
      const { Table } = await this.client.send(new DescribeTableCommand({ TableName: table })).catch(() => ({ Table: undefined }));
      const keyNames = Table?.KeySchema?.map((k) => k.AttributeName!) ?? [];
      if (keyNames.length === 0) continue;
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await this.client.send(new ScanCommand({
          TableName: table,
          ExclusiveStartKey: startKey,
          FilterExpression: '#ttl < :now',
          ExpressionAttributeNames: { '#ttl': setting.attributeName },
          ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
        }));
        const keys = (page.Items ?? []).map((item) => Object.fromEntries(keyNames.map((k) => [k, item[k]!])));
        for (let i = 0; i < keys.length; i += 25) {
          let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
          while (requests.length > 0) {
            const result = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
            requests = (result.UnprocessedItems?.[table] ?? []).map((r) => ({ DeleteRequest: { Key: r.DeleteRequest!.Key! } }));
          }
        }
        deleted += keys.length;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    if (deleted > 0) this.log(`dynamodb: TTL sweep deleted ${deleted} expired item(s)`);
    return deleted;
  }

  private persist(): Promise<void> {
    return this.writer.write(this.tables);
  }

  async close(): Promise<void> {
    this.client.destroy();
    await this.writer.settled();
  }
}

const SETTINGS_OPERATIONS = new Set(['UpdateTimeToLive', 'DescribeTimeToLive', 'UpdateContinuousBackups', 'DescribeContinuousBackups']);

function validationError(message: string): LocalResponse {
  return jsonError(400, 'com.amazon.coral.validate#ValidationException', message, { contentType: AMZ_JSON_1_0 });
}

function continuousBackups(enabled: boolean): unknown {
  const now = Date.now() / 1000;
  return {
    ContinuousBackupsDescription: {
      ContinuousBackupsStatus: 'ENABLED',
      PointInTimeRecoveryDescription: enabled
        ? { PointInTimeRecoveryStatus: 'ENABLED', EarliestRestorableDateTime: now, LatestRestorableDateTime: now, RecoveryPeriodInDays: 35 }
        : { PointInTimeRecoveryStatus: 'DISABLED' },
    },
  };
}
