import { parseContext } from '../../../infra/local-cloud/cli-args';

describe('parseContext', () => {
  it('keeps values as strings, as the CDK CLI passes them', () => {
    expect(parseContext(['exportBatchingWindowSeconds=5', 'a=b=c'])).toEqual({ exportBatchingWindowSeconds: '5', a: 'b=c' });
  });
  it('rejects a pair without a key', () => {
    expect(() => parseContext(['=5'])).toThrow(/key=value/);
    expect(() => parseContext(['novalue'])).toThrow(/key=value/);
  });
});
