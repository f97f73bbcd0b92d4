import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The Powertools logger shared by every handler. The service name comes from
 * `POWERTOOLS_SERVICE_NAME`, set on each function by the CDK app, so all functions log
 * under one service.
 */
export const logger = new Logger();

/** The error fields worth a log line: never the whole object (it may hold request data). */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  return {
    errorName: error.name,
    errorMessage: error.message,
    stack: error.stack,
    ...(error.cause instanceof Error
      ? { causeName: error.cause.name, causeMessage: error.cause.message }
      : {}),
  };
}
