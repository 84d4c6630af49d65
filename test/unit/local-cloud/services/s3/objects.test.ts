import { deleteResult, evaluateConditions, ownerAcl, parseDeleteRequest, parseRange } from '../../../../../infra/local-cloud/services/s3/objects';

describe('parseRange', () => {
  it.each([
    ['bytes=0-0', 10, { kind: 'range', start: 0, end: 0 }],
    ['bytes=2-5', 10, { kind: 'range', start: 2, end: 5 }],
    ['bytes=2-', 10, { kind: 'range', start: 2, end: 9 }],
    ['bytes=5-100', 10, { kind: 'range', start: 5, end: 9 }],
    ['bytes=-3', 10, { kind: 'range', start: 7, end: 9 }],
    ['bytes=-30', 10, { kind: 'range', start: 0, end: 9 }],
    ['bytes=10-', 10, { kind: 'unsatisfiable' }],
    ['bytes=10-20', 10, { kind: 'unsatisfiable' }],
    ['bytes=-0', 10, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=-5', 0, { kind: 'none' }],
    ['bytes=5-2', 10, { kind: 'none' }],
    ['bytes=0-1,3-4', 10, { kind: 'none' }],
    ['items=0-1', 10, { kind: 'none' }],
    ['bytes=-', 10, { kind: 'none' }],
    [undefined, 10, { kind: 'none' }],
  ])('%s of %d bytes → %j', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
});

describe('evaluateConditions', () => {
  const etag = 'abc';
  const modified = Date.parse('2026-01-01T00:00:00.500Z');
  const before = 'Wed, 31 Dec 2025 23:59:59 GMT';
  const at = 'Thu, 01 Jan 2026 00:00:00 GMT';
  it.each([
    [{}, 'proceed'],
    [{ 'if-match': '"abc"' }, 'proceed'],
    [{ 'if-match': '"x", "abc"' }, 'proceed'],
    [{ 'if-match': '*' }, 'proceed'],
    [{ 'if-match': '"x"' }, { failed: 'If-Match' }],
    [{ 'if-unmodified-since': before }, { failed: 'If-Unmodified-Since' }],
    [{ 'if-unmodified-since': at }, 'proceed'],
    // If-Match true wins over If-Unmodified-Since false, as on S3.
    [{ 'if-match': '"abc"', 'if-unmodified-since': before }, 'proceed'],
    [{ 'if-none-match': '"abc"' }, 'not-modified'],
    [{ 'if-none-match': '*' }, 'not-modified'],
    [{ 'if-none-match': '"x"' }, 'proceed'],
    [{ 'if-modified-since': at }, 'not-modified'],
    [{ 'if-modified-since': before }, 'proceed'],
    // If-None-Match false (no match) wins over If-Modified-Since, as on S3.
    [{ 'if-none-match': '"x"', 'if-modified-since': at }, 'proceed'],
    [{ 'if-modified-since': 'not a date' }, 'proceed'],
  ])('%j → %j', (headers, expected) => {
    expect(evaluateConditions(headers as Record<string, string>, etag, modified)).toEqual(expected);
  });
});

describe('ownerAcl', () => {
  it('grants FULL_CONTROL inside the grant, as S3 writes it (s3cmd reads Grant/Permission)', () => {
    expect(ownerAcl()).toMatch(/<AccessControlPolicy xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/"><Owner><ID>[0-9a-f]{64}<\/ID>/);
    expect(ownerAcl()).toMatch(/<Grant><Grantee [^>]*xsi:type="CanonicalUser"><ID>[0-9a-f]{64}<\/ID><DisplayName>local<\/DisplayName><\/Grantee><Permission>FULL_CONTROL<\/Permission><\/Grant>/);
  });
});

describe('parseDeleteRequest', () => {
  it('reads the keys as text, never as numbers, with XML entities decoded', () => {
    const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n'
      + '  <Object><Key>0123</Key></Object>\n  <Object><Key>1e3</Key><VersionId>null</VersionId></Object>\n'
      + '  <Object><Key>oem-a/&lt;&amp;&#47;&#x41;</Key></Object>\n  <Object><Key> </Key></Object>\n  <Quiet>true</Quiet>\n</Delete>';
    expect(parseDeleteRequest(body)).toEqual({
      quiet: true,
      objects: [{ key: '0123' }, { key: '1e3', versionId: 'null' }, { key: 'oem-a/<&/A' }, { key: ' ' }],
    });
    expect(parseDeleteRequest('<Delete><Object><Key/></Object></Delete>')).toEqual({ quiet: false, objects: [{ key: '' }] });
  });

  it.each([
    ['a comment', '<Delete><!-- <Object><Key>x</Key></Object> --><Object><Key>y</Key></Object></Delete>'],
    ['CDATA', '<Delete><Object><Key><![CDATA[oem-b/x]]></Key></Object></Delete>'],
    ['an attribute', '<Delete><Object><Key id="1">x</Key></Object></Delete>'],
    ['an HTML entity', '<Delete><Object><Key>oem-a&sol;x</Key></Object></Delete>'],
    ['a DOCTYPE', '<!DOCTYPE d [<!ENTITY e "oem-b">]><Delete><Object><Key>&e;</Key></Object></Delete>'],
    ['no objects', '<Delete><Quiet>true</Quiet></Delete>'],
    ['another root', '<Remove><Object><Key>x</Key></Object></Remove>'],
    ['unclosed elements', '<Delete><Object><Key>x</Key></Object>'],
    ['trailing content', '<Delete><Object><Key>x</Key></Object></Delete><Delete/>'],
    ['an object without key', '<Delete><Object><VersionId>1</VersionId></Object></Delete>'],
    ['over 1000 keys', `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`],
  ])('refuses a document with %s', (_, body) => {
    expect(parseDeleteRequest(body)).toBeUndefined();
  });
});

describe('deleteResult', () => {
  it('lists deleted keys (unless quiet) and errors, escaped', () => {
    const errors = [{ key: '', code: 'UserKeyMustBeSpecified', message: 'm' }];
    expect(deleteResult([{ key: 'a&b' }, { key: 'c', versionId: 'null' }], errors, false)).toContain(
      '<Deleted><Key>a&amp;b</Key></Deleted><Deleted><Key>c</Key><VersionId>null</VersionId></Deleted><Error><Key></Key><Code>UserKeyMustBeSpecified</Code><Message>m</Message></Error></DeleteResult>',
    );
    expect(deleteResult([{ key: 'a' }], [], true)).not.toContain('<Deleted>');
  });
});
