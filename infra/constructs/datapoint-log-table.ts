import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { BY_NAME_INDEX } from '../../lambdas/domain/datapoint-logs/keys';
import { ENV } from '../../lambdas/shared/config';

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
    // Datapoints of an OEM by name (`NAME#<name>#<dsn>#<block>#<index>`), for queries that fix the
    // name but not the device: IAP wildcards never scan.
    this.table.addGlobalSecondaryIndex({
      indexName: BY_NAME_INDEX,
      partitionKey: { name: 'gsi1pk', type: AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
  }

  /**
   * Gives `fn` the table: `DATAPOINT_LOG_TABLE` in its environment, and item reads (GetItem,
   * BatchGetItem, Query on the table and its index) plus, for `readWrite`, item writes. Never Scan.
   */
  bind(fn: LambdaFunction, access: 'read' | 'readWrite'): void {
    fn.addEnvironment(ENV.datapointLogTable, this.table.tableName);
    const reads = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
    const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
    fn.addToRolePolicy(new PolicyStatement({
      actions: access === 'read' ? reads : [...reads, ...writes],
      resources: [this.table.tableArn, `${this.table.tableArn}/index/${BY_NAME_INDEX}`],
    }));
  }
}
