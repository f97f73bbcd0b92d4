import { randomBytes } from 'node:crypto';

/**
 * The MCP function's log streams, as CloudWatch Logs keeps them: Lambda writes what each
 * execution environment prints to a log stream of its own in the function's log group (the
 * environment's `AWS_LAMBDA_LOG_STREAM_NAME`), so an operator tells environments apart by
 * stream. The gateway prints the lines of every environment it runs on its one standard output,
 * each framed with its stream's name; the harness reads them from that pipe and ships them to
 * the AWS stand-in, which files each line under its stream.
 */

/** The local MCP function's log group. */
export const MCP_LOG_GROUP = '/aws/lambda/local-mcp';

/** The stream of the lines the gateway prints itself (the functions it runs in its own thread). */
export const GATEWAY_LOG_STREAM = 'local-gateway';

/**
 * Record separator: JSON escapes every control character, so no line a handler prints (its log
 * lines and records are JSON) starts with one by accident.
 */
const FRAME = '\u001e';

export interface LogLine {
  readonly logStream: string;
  readonly message: string;
}

/** A line of an environment, as the gateway prints it for the harness. */
export function framedLine(logStream: string, message: string): string {
  return `${FRAME}${logStream}${FRAME}${message}`;
}

/** The stream and message of a line the gateway printed (its own stream if unframed). */
export function unframedLine(line: string): LogLine {
  const end = line.startsWith(FRAME) ? line.indexOf(FRAME, 1) : -1;
  if (end < 0) return { logStream: GATEWAY_LOG_STREAM, message: line };
  return { logStream: line.slice(1, end), message: line.slice(end + 1) };
}

/**
 * A new environment's log stream name, in Lambda's form: the day, the function version and
 * the environment's id (`2026/07/28/[$LATEST]0f1e...`).
 */
export function newLogStreamName(now: Date = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}
