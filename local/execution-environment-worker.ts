/**
 * One execution environment of a function, in a worker thread of the gateway
 * (local/execution-environments.ts): the real handler of `lambda/<entry>`, loaded here with the
 * function's own environment, so its module state (SDK clients, caches, the cold start) belongs
 * to this environment alone, as a Lambda environment's does.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { loadHandler } from './function-environment.js';
import { lambdaContext } from './lambda-context.js';

export interface EnvironmentData {
  /** The function's folder under `lambda/`. */
  readonly entry: string;
  readonly logStreamName: string;
}

/** An invocation, as the gateway sends it (a context's functions do not cross threads). */
export interface InvokeMessage {
  readonly id: number;
  readonly event: unknown;
  readonly tenantId?: string;
  readonly awsRequestId: string;
  readonly remainingMs: number;
}

export type EnvironmentMessage =
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'result'; readonly id: number; readonly result: unknown }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly error: { name: string; message: string; stack?: string };
    };

const port = parentPort;
if (!port) throw new Error('local/execution-environment-worker.ts runs in a worker thread');
const { entry, logStreamName } = workerData as EnvironmentData;
const send = (message: EnvironmentMessage) => port.postMessage(message);

// What the function prints goes to its environment's log stream. Each whole line goes to the
// gateway on the port the results take, so a line printed before an answer is never behind it
// (the usage record of a call is out before its response, as on Lambda).
let partial = '';
process.stdout.write = ((
  chunk: string | Uint8Array,
  encoding?: BufferEncoding | ((error?: Error | null) => void),
  callback?: (error?: Error | null) => void,
) => {
  partial += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  const lines = partial.split('\n');
  partial = lines.pop() ?? '';
  for (const line of lines) send({ type: 'log', line });
  (typeof encoding === 'function' ? encoding : callback)?.();
  return true;
}) as typeof process.stdout.write;

type Handler = (event: unknown, context: Context) => Promise<unknown>;
const { handler } = (await loadHandler(
  entry,
  () => import(`../lambda/${entry}/index.js`) as Promise<{ handler: Handler }>,
)) as { handler: Handler };

port.on('message', async (message: InvokeMessage) => {
  const context = lambdaContext(entry, message.remainingMs, {
    awsRequestId: message.awsRequestId,
    logStreamName,
    ...(message.tenantId !== undefined ? { tenantId: message.tenantId } : {}),
  });
  try {
    send({ type: 'result', id: message.id, result: await handler(message.event, context) });
  } catch (error) {
    const {
      name,
      message: text,
      stack,
    } = error instanceof Error ? error : new Error(String(error));
    send({ type: 'error', id: message.id, error: { name, message: text, stack } });
  }
});
