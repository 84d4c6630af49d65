import { DynamoDBClient, DescribeTableCommand, ScanCommand, BatchWriteItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { forward, json, type BufferedRequest, type LocalResponse } from './http-util';

interface TtlSetting {
  attributeName: string;
  enabled: boolean;
}

/**
 * DynamoDB in front of dynalite, adding what dynalite lacks: the TTL API (`UpdateTimeToLive`,
 * `DescribeTimeToLive`) and a sweeper that deletes expired items, as DynamoDB does (late, in the
 * background: readers must still filter expired items themselves).
 */
export class DynamoDbGateway {
  private readonly ttl: Record<string, TtlSetting>;
  private readonly client: DynamoDBClient;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly dynalitePort: number,
    private readonly ttlFile: string,
    private readonly log: (message: string) => void,
  ) {
    this.ttl = loadJson(ttlFile);
    this.client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${dynalitePort}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  }

  readonly handle = async (request: BufferedRequest): Promise<LocalResponse> => {
    const operation = request.headers['x-amz-target']?.split('.')[1];
    if (operation === 'UpdateTimeToLive' || operation === 'DescribeTimeToLive') {
      const input = JSON.parse(request.body.toString('utf8') || '{}') as {
        TableName?: string;
        TimeToLiveSpecification?: { Enabled?: boolean; AttributeName?: string };
      };
      const table = input.TableName ?? '';
      const described = await forward(this.dynalitePort, {
        ...request,
        headers: { ...request.headers, 'x-amz-target': 'DynamoDB_20120810.DescribeTable' },
        body: Buffer.from(JSON.stringify({ TableName: table })),
      });
      if (described.status !== 200) return described;
      if (operation === 'DescribeTimeToLive') {
        const setting = this.ttl[table];
        return json(200, {
          TimeToLiveDescription: setting?.enabled
            ? { TimeToLiveStatus: 'ENABLED', AttributeName: setting.attributeName }
            : { TimeToLiveStatus: 'DISABLED' },
        }, { 'content-type': 'application/x-amz-json-1.0' });
      }
      const spec = input.TimeToLiveSpecification;
      if (!spec?.AttributeName || typeof spec.Enabled !== 'boolean') {
        return json(400, { __type: 'com.amazon.coral.validate#ValidationException', message: 'TimeToLiveSpecification needs Enabled and AttributeName' });
      }
      await this.setTtl(table, { attributeName: spec.AttributeName, enabled: spec.Enabled });
      return json(200, { TimeToLiveSpecification: spec }, { 'content-type': 'application/x-amz-json-1.0' });
    }
    const response = await forward(this.dynalitePort, request);
    if (operation === 'DeleteTable' && response.status === 200) {
      const table = (JSON.parse(request.body.toString('utf8')) as { TableName: string }).TableName;
      delete this.ttl[table];
      await this.persist();
    }
    return response;
  };

  async setTtl(table: string, setting: TtlSetting): Promise<void> {
    this.ttl[table] = setting;
    await this.persist();
  }

  /** Deletes every item whose TTL attribute (epoch seconds) is in the past. Returns how many. */
  sweep(nowSeconds = Math.floor(Date.now() / 1000)): Promise<number> {
    const run = (this.sweeping ?? Promise.resolve()).then(() => this.sweepOnce(nowSeconds));
    this.sweeping = run.then(() => undefined, () => undefined);
    return run;
  }

  private async sweepOnce(nowSeconds: number): Promise<number> {
    let deleted = 0;
    for (const [table, setting] of Object.entries(this.ttl)) {
      if (!setting.enabled) continue;
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
    return writeFile(this.ttlFile, JSON.stringify(this.ttl, null, 2));
  }

  close(): void {
    this.client.destroy();
  }
}

function loadJson<T extends object>(file: string): Record<string, T> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, T>;
  } catch {
    return {};
  }
}
