/**
 * Fleet simulator CLI: `npm run simulate -- [options]` (`--help` for the options).
 * Puts simulated device events on the pipeline's Kinesis stream: local cloud, LocalStack or AWS.
 */
import { main } from './simulator/cli';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`simulate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
