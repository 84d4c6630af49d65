import { emulatorPath, isValidBucketName, parseCopySource, s3Target } from '../../../../../infra/local-cloud/services/s3/request-target';

const target = (url: string, host = '127.0.0.1:4566') => s3Target({ url, headers: { host } });

describe('s3Target: keys are literal strings', () => {
  it.each([
    ['/b/oem-a/../oem-b/x.csv', 'oem-a/../oem-b/x.csv'],
    ['/b/oem-a/./x.csv', 'oem-a/./x.csv'],
    ['/b/oem-a//x.csv', 'oem-a//x.csv'],
    ['/b/oem-a/', 'oem-a/'],
    ['/b//x', '/x'],
    ['/b/oem-a%2F..%2Foem-b%2Fx.csv', 'oem-a/../oem-b/x.csv'],
    ['/b/%2E%2E/x', '../x'],
    ['/b/a%20b+c.csv?x-id=GetObject', 'a b+c.csv'],
    ['/b/..', '..'],
  ])('%s → key %j', (url, key) => {
    expect(target(url)).toEqual({ bucket: 'b', key });
  });

  it('reads the bucket, the service, and virtual-hosted requests', () => {
    expect(target('/')).toEqual({ bucket: '', key: '' });
    expect(target('/b')).toEqual({ bucket: 'b', key: '' });
    expect(target('/b/')).toEqual({ bucket: 'b', key: '' });
    expect(target('/b?list-type=2')).toEqual({ bucket: 'b', key: '' });
    expect(target('/oem-a/../x', 'b.s3.localhost:4566')).toEqual({ bucket: 'b', key: 'oem-a/../x' });
    expect(target('/', 'b.localhost:4566')).toEqual({ bucket: 'b', key: '' });
  });

  it('refuses a path that is not valid percent-encoded UTF-8', () => {
    expect(target('/b/%ZZ')).toBeUndefined();
    expect(target('/b/%C3')).toBeUndefined();
    expect(target('/b%/x')).toBeUndefined();
  });
});

describe('emulatorPath', () => {
  it('sends s3rver the key as one encoded segment, so nothing in it is resolved', () => {
    expect(emulatorPath({ bucket: 'b', key: 'oem-a/../oem-b/x.csv' })).toBe('/b/oem-a%2F..%2Foem-b%2Fx.csv');
    expect(emulatorPath({ bucket: 'b', key: 'a/' })).toBe('/b/a%2F');
    expect(emulatorPath({ bucket: 'b', key: '' })).toBe('/b');
    expect(emulatorPath({ bucket: '', key: '' })).toBe('/');
  });
});

describe('parseCopySource', () => {
  it('reads the bucket, the decoded key and the version, splitting the query before decoding', () => {
    expect(parseCopySource('/b/oem-a/x%20y.csv')).toEqual({ bucket: 'b', key: 'oem-a/x y.csv' });
    expect(parseCopySource('b/oem-a%2F..%2Fx')).toEqual({ bucket: 'b', key: 'oem-a/../x' });
    expect(parseCopySource('b/what%3Fnot?versionId=3')).toEqual({ bucket: 'b', key: 'what?not', versionId: '3' });
    expect(parseCopySource('b')).toBeUndefined();
    expect(parseCopySource('b/')).toBeUndefined();
    expect(parseCopySource('b/%ZZ')).toBeUndefined();
  });
});

describe('isValidBucketName', () => {
  it.each(['abc', 'devicepipeline-exportbucketfd42bced-7wqzj4xhfekb', 'a.b-c', '123'])('accepts %s', (name) => expect(isValidBucketName(name)).toBe(true));
  it.each(['', '.', '..', 'ab', 'a..b', 'Ab1', 'a_b', '-ab', 'ab-', '.tmp', '.uploads', 'a/b', '192.168.0.1', 'x'.repeat(64)])('refuses %j', (name) => expect(isValidBucketName(name)).toBe(false));
});
