/**
 * Runs dynalite (a DynamoDB-compatible server, pure JavaScript) on 127.0.0.1 as its own
 * process. Prints one JSON line `{"service":"dynamodb","port":N}` when it is listening, and
 * closes cleanly on SIGTERM or SIGINT.
 *
 *   tsx local/dynalite-server.ts [--port 0] [--path .dev-data/dynamodb]
 *
 * Without --path the data is kept in memory; with it, on disk (LevelDB) across restarts.
 */
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import dynalite from 'dynalite';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, path: { type: 'string' } },
});

const server = dynalite({
  path: values.path,
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
});

server.on('error', (error: NodeJS.ErrnoException) => {
  const reason =
    error.code === 'EADDRINUSE' ? `port ${values.port} is already in use` : error.message;
  process.stderr.write(`dynalite: cannot listen: ${reason}\n`);
  process.exit(1);
});

server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ service: 'dynamodb', port })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
