import { readFileSync } from 'node:fs';
import type { DeployedContract } from './deployed-contract.js';

/** Where the harness wrote the deployed contract (local/deployed-contract.ts). */
export const CONTRACT_FILE_VARIABLE = 'LOCAL_DEPLOYED_CONTRACT';

/**
 * Development settings only the local stack sets. Each handler's configuration gives them a
 * production default (loopback destinations refused, slow retries), so on AWS their absence
 * is the safe case.
 */
const LOCAL_ONLY = new Set([
  'ALLOW_LOOPBACK_WEBHOOKS',
  'ALLOW_LOOPBACK_CLIENT_METADATA',
  'RETRY_BASE_SECONDS',
  'TIER_CHANGE_DRAIN_SECONDS',
  'POWERTOOLS_METRICS_DISABLED',
]);
/** What the Lambda runtime (or the local endpoints standing in for AWS) provides every function. */
const RUNTIME = /^(AWS_|NODE_|PATH$|HOME$|LANG$|TZ$|TMPDIR$)/;

let contract: DeployedContract | undefined;
export function loadContract(): DeployedContract {
  // Cached first: while loadHandler narrows the environment for a handler's import, other
  // work of the process (a timer's delivery) may still ask.
  if (contract) return contract;
  const file = process.env[CONTRACT_FILE_VARIABLE];
  if (!file)
    throw new Error(`${CONTRACT_FILE_VARIABLE} is not set: start the stack with the harness`);
  contract ??= JSON.parse(readFileSync(file, 'utf8')) as DeployedContract;
  return contract;
}

/** The function's deployed timeout (its CDK definition), for the deadline of a local run. */
export function deployedTimeoutMs(entry: string): number {
  const seconds = loadContract().timeouts[entry];
  if (seconds === undefined)
    throw new Error(`the CDK app defines no function from lambda/${entry}`);
  return seconds * 1000;
}

/**
 * The variables the CDK definition of `lambda/<entry>` gives it; fails, naming them, when the
 * local stack has no value for some (so a stack that could not run the function stops at start).
 */
export function functionVariables(entry: string): readonly string[] {
  const names = loadContract().functions[entry];
  if (!names) throw new Error(`the CDK app defines no function from lambda/${entry}`);
  const missing = names.filter((name) => process.env[name] === undefined);
  if (missing.length > 0) {
    throw new Error(
      `lambda/${entry} needs ${missing.join(', ')}, which the local stack does not set`,
    );
  }
  return names;
}

/**
 * Loads a handler with the environment its CDK definition gives it and nothing more, as Lambda
 * would: the process's merged environment is narrowed to the function's own variables while
 * the handler module loads (handlers read their configuration at load), so a variable that CDK
 * does not give a function is missing locally too. A variable CDK gives that the local stack
 * has no value for stops the stack at start.
 */
export async function loadHandler<T>(entry: string, load: () => Promise<T>): Promise<T> {
  const names = functionVariables(entry);
  const saved = { ...process.env };
  const allowed = new Set(names);
  for (const name of Object.keys(process.env)) {
    if (!allowed.has(name) && !LOCAL_ONLY.has(name) && !RUNTIME.test(name))
      delete process.env[name];
  }
  try {
    return await load();
  } finally {
    for (const [name, value] of Object.entries(saved)) process.env[name] = value;
  }
}
