import { encryptionFromTemplate, lifecycleRulesFromTemplate } from '../../../../../infra/local-cloud/services/s3/deploy';

describe('lifecycleRulesFromTemplate', () => {
  it('maps CloudFormation lifecycle rules to the S3 API shape', () => {
    expect(lifecycleRulesFromTemplate([{ Id: 'r', Status: 'Enabled', ExpirationInDays: 365, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }])).toEqual([
      { ID: 'r', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 365 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
    ]);
  });
});

describe('encryptionFromTemplate', () => {
  it('maps CloudFormation encryption rules to the S3 API configuration', () => {
    expect(encryptionFromTemplate([{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'k' }, BucketKeyEnabled: true }])).toEqual({
      Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'k' }, BucketKeyEnabled: true }],
    });
  });
});
