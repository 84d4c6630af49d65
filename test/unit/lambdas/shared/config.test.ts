import { requireEnv, requireIntegerEnv } from '../../../../lambdas/shared/config';

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

describe('requireIntegerEnv', () => {
  const name = 'PIPELINE_TEST_INTEGER';
  afterEach(() => {
    delete process.env[name];
  });

  it('returns a whole number within the bounds', () => {
    process.env[name] = ' 300 ';
    expect(requireIntegerEnv(name, 60, 3600)).toBe(300);
  });

  it.each(['59', '3601', '5.5', 'five', '1e3'])('fails fast on %j', (value) => {
    process.env[name] = value;
    expect(() => requireIntegerEnv(name, 60, 3600)).toThrow(`Environment variable ${name} must be a whole number from 60 to 3600`);
  });

  it('fails fast when missing', () => {
    expect(() => requireIntegerEnv(name, 0, 1)).toThrow(`Missing required environment variable ${name}`);
  });
});
