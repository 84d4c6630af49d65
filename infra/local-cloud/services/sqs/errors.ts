/** SQS's errors, as both its protocols name them. */

/** An SQS error: the JSON protocol's type, the query protocol's code (`x-amzn-query-error`), the status. */
export class SqsError extends Error {
  constructor(
    readonly type: string,
    readonly queryCode: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export const queueDoesNotExist = () => new SqsError('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
export const invalidParameterValue = (message: string) => new SqsError('InvalidParameterValue', 'InvalidParameterValue', message);
export const missingParameter = (name: string) => new SqsError('MissingParameter', 'MissingParameter', `The request must contain the parameter ${name}.`);
export const receiptHandleIsInvalid = (handle: string) =>
  new SqsError('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`);
export const invalidAttributeName = (name: string) => new SqsError('InvalidAttributeName', 'InvalidAttributeName', `Unknown Attribute ${name}.`);
export const invalidAttributeValue = (name: string, reason?: string) =>
  new SqsError('InvalidAttributeValue', 'InvalidAttributeValue', `Invalid value for the parameter ${name}.${reason ? ` Reason: ${reason}` : ''}`);
