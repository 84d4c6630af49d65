import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { SELECTION_ATTRIBUTES } from '../../lambdas/adapters/dynamodb/datapoint-log-items';
import { BY_NAME_INDEX } from '../../lambdas/domain/datapoint-logs/keys';
import { ENV } from '../../lambdas/shared/config';

/**
 * What a function does with the datapoint log table, each with the actions it needs and no more
 * (never Scan, never a table-wide operation): combine several with {@link DatapointLogTable.bind}.
 */
export const DATAPOINT_LOG_ACCESS = {
  /** The stream logger: registry and devices (BatchGetItem, PutItem, UpdateItem), latest values (Query), values (BatchWriteItem). */
  logger: { actions: ['BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem'], index: false },
  /** Reading configurations: datapoints by key or by name (Query, table and index), devices (BatchGetItem). */
  configReader: { actions: ['BatchGetItem', 'Query'], index: true },
  /** Changing configurations: a reader's actions, registering a datapoint (PutItem, the id counter's UpdateItem), settings (UpdateItem). */
  configWriter: { actions: ['BatchGetItem', 'Query', 'PutItem', 'UpdateItem'], index: true },
  /** Reading values: the selection (as configReader) and each datapoint's values (Query). */
  valuesReader: { actions: ['BatchGetItem', 'Query'], index: true },
  /** Deleting values: a reader's actions, BatchWriteItem (delete requests) and UpdateItem (the datapoint notes the highest sequence deleted). */
  valuesWriter: { actions: ['BatchGetItem', 'Query', 'BatchWriteItem', 'UpdateItem'], index: true },
  /** Reading a bulk job (GetItem). */
  jobReader: { actions: ['GetItem'], index: false },
  /** Starting and advancing bulk jobs (GetItem, PutItem, UpdateItem). */
  jobWriter: { actions: ['GetItem', 'PutItem', 'UpdateItem'], index: false },
} as const satisfies Record<string, { actions: readonly string[]; index: boolean }>;

export type DatapointLogAccess = keyof typeof DATAPOINT_LOG_ACCESS;

/**
 * The single DynamoDB table of the datapoint logs: log configuration, logged values and
 * device state, told apart by the `pk` / `sk` key design. Logged values carry `expiresAt`
 * (epoch seconds) so that TTL removes them physically once their retention has passed;
 * TTL deletes late, so reads must still filter by retention.
 */
export class DatapointLogTable extends Construct {
  static readonly partitionKey = 'pk';
  static readonly sortKey = 'sk';
  static readonly ttlAttribute = 'expiresAt';

  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: DatapointLogTable.partitionKey, type: AttributeType.STRING },
      sortKey: { name: DatapointLogTable.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: DatapointLogTable.ttlAttribute,
      encryption: TableEncryption.AWS_MANAGED,
      // Customer data: keep it when the stack is deleted.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Datapoints of an OEM by name (`NAME#<name>#<dsn>#<block>#<index>`, in each registry bucket), for
    // queries that fix the name but not the device: IAP wildcards never scan. It holds what selections
    // read (place, id, times, settings) and nothing else: writes that change none of it (the devices, the
    // logger) cost the index nothing, and a datapoint's index entry stays small.
    this.table.addGlobalSecondaryIndex({
      indexName: BY_NAME_INDEX,
      partitionKey: { name: 'gsi1pk', type: AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: AttributeType.STRING },
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...SELECTION_ATTRIBUTES],
    });
  }

  /**
   * Gives `fn` the table: `DATAPOINT_LOG_TABLE` in its environment and the actions of `access` (one or
   * more {@link DATAPOINT_LOG_ACCESS} modes), on the table, and on the `byName` index only for modes that
   * query it. Never Scan.
   */
  bind(fn: LambdaFunction, ...access: DatapointLogAccess[]): void {
    if (access.length === 0) throw new Error('DatapointLogTable.bind: name at least one access mode');
    fn.addEnvironment(ENV.datapointLogTable, this.table.tableName);
    const modes = access.map((mode) => DATAPOINT_LOG_ACCESS[mode]);
    const actions = [...new Set(modes.flatMap((mode) => mode.actions))].sort().map((action) => `dynamodb:${action}`);
    const index = modes.some((mode) => mode.index);
    fn.addToRolePolicy(new PolicyStatement({
      actions,
      resources: index ? [this.table.tableArn, `${this.table.tableArn}/index/${BY_NAME_INDEX}`] : [this.table.tableArn],
    }));
  }
}
