import type { Construct } from 'constructs';

/**
 * An integer CDK context value within [min, max], or `fallback` when unset. The CLI passes
 * `-c key=value` as a string, `cdk.json` and tests may pass a number: both are accepted.
 */
export function integerContext(scope: Construct, key: string, fallback: number, min: number, max: number): number {
  const raw: unknown = scope.node.tryGetContext(key);
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`Context ${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}
