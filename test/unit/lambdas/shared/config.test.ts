import { requireEnv } from '../../../../lambdas/shared/config';

describe('requireEnv', () => {
  const name = 'PIPELINE_TEST_VARIABLE';
  afterEach(() => {
    delete process.env[name];
  });

  it('returns a set variable', () => {
    process.env[name] = 'value';
    expect(requireEnv(name)).toBe('value');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['blank', '   '],
  ])('fails fast when %s', (_, value) => {
    if (value !== undefined) process.env[name] = value;
    expect(() => requireEnv(name)).toThrow(`Missing required environment variable ${name}`);
  });
});
