import {
  BatchWriteItemCommand, CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient, ScanCommand, UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand, type AttributeValue, type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { alreadyExists, type DeployContext } from '../../cloudformation/deploy';
import type { DeployedStack } from '../../cloudformation/template';

/** `AWS::DynamoDB::Table`: keys, indexes, billing, TTL and point-in-time recovery, through the edge's TTL shim. */
export async function deployTables(stack: DeployedStack, context: DeployContext): Promise<void> {
  const dynamodb = new DynamoDBClient(context.client);
  try {
    for (const [id, resource] of stack.resourcesOfType('AWS::DynamoDB::Table')) {
      const props = stack.resolve(resource.Properties ?? {}) as Partial<CreateTableCommandInput> & {
        TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
        PointInTimeRecoverySpecification?: { PointInTimeRecoveryEnabled: boolean };
      };
      const input: CreateTableCommandInput = {
        TableName: stack.ref(id),
        KeySchema: props.KeySchema,
        AttributeDefinitions: props.AttributeDefinitions,
        BillingMode: props.BillingMode ?? 'PROVISIONED',
        ...(props.BillingMode === 'PAY_PER_REQUEST' ? {} : { ProvisionedThroughput: props.ProvisionedThroughput ?? { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } }),
        ...(props.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: props.GlobalSecondaryIndexes } : {}),
        ...(props.LocalSecondaryIndexes ? { LocalSecondaryIndexes: props.LocalSecondaryIndexes } : {}),
      };
      const created = await dynamodb.send(new CreateTableCommand(input)).then(() => true, (e: unknown) => {
        if (!alreadyExists(e)) throw e;
        return false;
      });
      if (!created) await migrateIndexes(dynamodb, input, context.log);
      if (props.TimeToLiveSpecification?.Enabled) {
        await dynamodb.send(new UpdateTimeToLiveCommand({ TableName: input.TableName, TimeToLiveSpecification: props.TimeToLiveSpecification }));
      }
      if (props.PointInTimeRecoverySpecification) {
        await dynamodb.send(new UpdateContinuousBackupsCommand({ TableName: input.TableName, PointInTimeRecoverySpecification: props.PointInTimeRecoverySpecification }));
      }
    }
  } finally {
    dynamodb.destroy();
  }
}

/**
 * A table kept in `.local/` from an older template may lack indexes the template now has, and
 * dynalite cannot add an index to a table: copy its items, create it anew, and put them back.
 */
async function migrateIndexes(dynamodb: DynamoDBClient, input: CreateTableCommandInput, log: (line: string) => void): Promise<void> {
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: input.TableName }));
  const existing = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  const missing = (input.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName!).filter((name) => !existing.has(name));
  if (missing.length === 0) return;
  const items: Array<Record<string, AttributeValue>> = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: input.TableName, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  log(`table ${input.TableName}: adding index ${missing.join(', ')} (re-creating it with its ${items.length} item(s))`);
  await dynamodb.send(new DeleteTableCommand({ TableName: input.TableName }));
  await dynamodb.send(new CreateTableCommand(input));
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const out = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [input.TableName!]: requests } }));
      requests = (out.UnprocessedItems?.[input.TableName!] ?? []).map((r) => ({ PutRequest: { Item: r.PutRequest!.Item! } }));
    }
  }
}
