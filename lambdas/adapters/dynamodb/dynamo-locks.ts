import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LockPort } from '../../domain/credentials/ports';

/** A lease in a DynamoDB table: an item per lock, taken by a conditional put, expiring by itself. */
export class DynamoLocks implements LockPort {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async acquire(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    try {
      await this.doc.send(new PutCommand({
        TableName: this.table,
        Item: { pk: name, owner, until: now + ttlMs, expiresAt: Math.ceil((now + ttlMs) / 1000) + 3600 },
        ConditionExpression: 'attribute_not_exists(pk) OR #until < :now',
        ExpressionAttributeNames: { '#until': 'until' },
        ExpressionAttributeValues: { ':now': now },
      }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async release(name: string, owner: string): Promise<void> {
    await this.doc.send(new DeleteCommand({
      TableName: this.table,
      Key: { pk: name },
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':owner': owner },
    })).catch((error: unknown) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
  }
}
