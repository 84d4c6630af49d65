import { jsonError } from '../../aws-protocol/errors';
import { forward, json, type BufferedRequest, type LocalResponse } from '../../aws-protocol/http';
import { AMZ_JSON_1_1, forwardOperation, targetOperation } from '../../aws-protocol/json-protocol';
import { readState, StateWriter } from '../../aws-protocol/state-file';

interface StreamEncryption {
  EncryptionType: 'KMS' | 'NONE';
  KeyId?: string;
}

const JSON_11 = { 'content-type': AMZ_JSON_1_1 };

/**
 * Kinesis in front of kinesalite, adding what kinesalite lacks: server-side encryption settings
 * (`StartStreamEncryption`, `StopStreamEncryption`), shown by `DescribeStream` and
 * `DescribeStreamSummary` as on Kinesis. Records are not encrypted at rest locally.
 */
export class KinesisGateway {
  private readonly encryption: Record<string, StreamEncryption>;
  private readonly writer: StateWriter;

  constructor(
    private readonly kinesalitePort: number,
    stateFile: string,
  ) {
    this.encryption = readState<Record<string, StreamEncryption>>(stateFile, {});
    this.writer = new StateWriter(stateFile);
  }

  readonly handle = async (request: BufferedRequest): Promise<LocalResponse> => {
    const operation = targetOperation(request);
    const isJson = (request.headers['content-type'] ?? '').includes('json');
    if (isJson && (operation === 'StartStreamEncryption' || operation === 'StopStreamEncryption')) {
      const input = JSON.parse(request.body.toString('utf8') || '{}') as { StreamName?: string; StreamARN?: string; EncryptionType?: string; KeyId?: string };
      const name = input.StreamName ?? input.StreamARN?.split('/').pop() ?? '';
      const exists = await forwardOperation(this.kinesalitePort, request, 'Kinesis_20131202.DescribeStreamSummary', { StreamName: name });
      if (exists.status !== 200) return exists;
      if (operation === 'StartStreamEncryption') {
        if (input.EncryptionType !== 'KMS' || !input.KeyId) {
          return jsonError(400, 'ValidationException', 'EncryptionType must be KMS and KeyId is required', { contentType: AMZ_JSON_1_1 });
        }
        this.encryption[name] = { EncryptionType: 'KMS', KeyId: input.KeyId };
      } else {
        delete this.encryption[name];
      }
      await this.writer.write(this.encryption);
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

  /** Resolves when the encryption settings are written. */
  close(): Promise<void> {
    return this.writer.settled();
  }
}
