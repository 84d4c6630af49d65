import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { forward, json, type BufferedRequest, type LocalResponse } from './http-util';

interface StreamEncryption {
  EncryptionType: 'KMS' | 'NONE';
  KeyId?: string;
}

const JSON_11 = { 'content-type': 'application/x-amz-json-1.1' };

/**
 * Kinesis in front of kinesalite, adding what kinesalite lacks: server-side encryption settings
 * (`StartStreamEncryption`, `StopStreamEncryption`), shown by `DescribeStream` and
 * `DescribeStreamSummary` as on Kinesis. Records are not encrypted at rest locally.
 */
export class KinesisGateway {
  private readonly encryption: Record<string, StreamEncryption>;

  constructor(
    private readonly kinesalitePort: number,
    private readonly stateFile: string,
  ) {
    try {
      this.encryption = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, StreamEncryption>;
    } catch {
      this.encryption = {};
    }
  }

  readonly handle = async (request: BufferedRequest): Promise<LocalResponse> => {
    const operation = request.headers['x-amz-target']?.split('.')[1] ?? '';
    const isJson = (request.headers['content-type'] ?? '').includes('json');
    if (isJson && (operation === 'StartStreamEncryption' || operation === 'StopStreamEncryption')) {
      const input = JSON.parse(request.body.toString('utf8') || '{}') as { StreamName?: string; StreamARN?: string; EncryptionType?: string; KeyId?: string };
      const name = input.StreamName ?? input.StreamARN?.split('/').pop() ?? '';
      const exists = await forward(this.kinesalitePort, {
        ...request,
        headers: { ...request.headers, 'x-amz-target': 'Kinesis_20131202.DescribeStreamSummary' },
        body: Buffer.from(JSON.stringify({ StreamName: name })),
      });
      if (exists.status !== 200) return exists;
      if (operation === 'StartStreamEncryption') {
        if (input.EncryptionType !== 'KMS' || !input.KeyId) {
          return json(400, { __type: 'ValidationException', message: 'EncryptionType must be KMS and KeyId is required' }, JSON_11);
        }
        this.encryption[name] = { EncryptionType: 'KMS', KeyId: input.KeyId };
      } else {
        delete this.encryption[name];
      }
      await writeFile(this.stateFile, JSON.stringify(this.encryption, null, 2));
      return json(200, {}, JSON_11);
    }
    const response = await forward(this.kinesalitePort, request);
    if (isJson && response.status === 200 && (operation === 'DescribeStream' || operation === 'DescribeStreamSummary')) {
      const body = JSON.parse(String(response.body)) as Record<string, { StreamName: string } & Record<string, unknown>>;
      const description = body.StreamDescription ?? body.StreamDescriptionSummary;
      if (description) {
        Object.assign(description, this.encryption[description.StreamName] ?? { EncryptionType: 'NONE' });
        return { ...response, body: JSON.stringify(body) };
      }
    }
    return response;
  };
}
