import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { deployedTimeoutMs } from './function-environment.js';

/**
 * A Lambda context with the fields Powertools reads, for running the handler of
 * `lambda/<functionName>` locally, by default with the timeout CDK deploys it with (so a
 * handler that leaves itself a margin before its deadline leaves the same margin here).
 */
export function lambdaContext(
  functionName: string,
  timeoutMs: number = deployedTimeoutMs(functionName),
): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
