import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

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
  }
}
