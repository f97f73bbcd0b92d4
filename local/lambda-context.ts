import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { deployedTimeoutMs } from './function-environment.js';

/** What Lambda tells one invocation beyond the function's own settings. */
export interface Invocation {
  /**
   * The invocation's tenant id, for a PER_TENANT function: the Node.js runtime sets
   * `context.tenantId` from the invoke's `X-Amz-Tenant-Id` (and leaves it out otherwise).
   */
  readonly tenantId?: string;
  /** @default a new UUID */
  readonly awsRequestId?: string;
  /** The execution environment's log stream (`AWS_LAMBDA_LOG_STREAM_NAME`). @default 'local' */
  readonly logStreamName?: string;
}

/**
 * A Lambda context with the fields Powertools reads, for running the handler of
 * `lambda/<functionName>` locally, by default with the timeout CDK deploys it with (so a
 * handler that leaves itself a margin before its deadline leaves the same margin here).
 */
export function lambdaContext(
  functionName: string,
  timeoutMs: number = deployedTimeoutMs(functionName),
  invocation: Invocation = {},
): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: invocation.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: invocation.logStreamName ?? 'local',
    ...(invocation.tenantId !== undefined ? { tenantId: invocation.tenantId } : {}),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
