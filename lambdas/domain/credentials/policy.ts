/** An IAM policy document. */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Array<{
    Sid: string;
    Effect: 'Allow' | 'Deny';
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
  }>;
}

/**
 * What an OEM's export user may do, and nothing else: list the export bucket only under its own
 * prefix (`s3:prefix` is `<oem_id>/` or below), and read the objects there.
 */
export function exportReadPolicy(bucket: string, oemId: string, partition = 'aws'): PolicyDocument {
  const bucketArn = `arn:${partition}:s3:::${bucket}`;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ListOwnPrefix',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: bucketArn,
        Condition: { StringLike: { 's3:prefix': [`${oemId}/`, `${oemId}/*`] } },
      },
      {
        Sid: 'ReadOwnFiles',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: `${bucketArn}/${oemId}/*`,
      },
    ],
  };
}
