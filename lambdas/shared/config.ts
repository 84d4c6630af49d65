/**
 * Reads a required environment variable. Call it at module scope so that a function with
 * a missing or empty variable fails at cold start, not on some later request.
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    throw new Error(`Missing required environment variable ${name}`);
  }
  return value;
}
