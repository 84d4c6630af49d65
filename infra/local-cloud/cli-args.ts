/**
 * `key=value` pairs of `--context`. Values stay strings, exactly as `cdk synth --context` passes
 * them, so constructs see the same context whichever way the app is synthesized.
 */
export function parseContext(pairs: string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--context needs key=value, got "${pair}"`);
    context[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return context;
}
