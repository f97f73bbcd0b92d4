import { RemovalPolicy } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import * as z from 'zod';

/**
 * Deployment settings, read from CDK context (`cdk.json` or `-c key=value`) and validated
 * before anything is synthesized.
 */
export interface AppConfig {
  /** Cognito domain prefix for Managed Login; the identity construct picks one if unset. */
  readonly domainPrefix?: string;
  /** OAuth redirect URIs of the MCP clients that may sign in. */
  readonly callbackUrls: readonly string[];
  /** RETAIN (the default) keeps tables and the user pool when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  /** Hostnames a browser Origin may name when calling the MCP endpoint. */
  readonly allowedOriginHostnames: readonly string[];
  /** The global limit: requests per second (steady and burst) for all tenants together. */
  readonly stageThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Reserved concurrency of the MCP function, if any (also caps its cost). */
  readonly mcpReservedConcurrency?: number;
  /** An e-mail address subscribed to the alarm topic. */
  readonly alarmEmail?: string;
}

export { DEFAULT_CALLBACK_URLS } from '../lambda/shared/oauth-metadata.js';

import { DEFAULT_CALLBACK_URLS } from '../lambda/shared/oauth-metadata.js';

const domainPrefix = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
    'lowercase letters, digits and hyphens, 1-63 characters',
  )
  .refine((value) => !/aws|amazon|cognito/.test(value), {
    message: 'Cognito refuses prefixes containing "aws", "amazon" or "cognito"',
  });

const callbackUrl = z.url().refine(
  (value) => {
    const url = new URL(value);
    return url.protocol === 'https:' || ['localhost', '127.0.0.1'].includes(url.hostname);
  },
  { message: 'must be https, or http on localhost' },
);

/** A list given as a JSON array in cdk.json or as a comma-separated string on the command line. */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((part) => part.trim())
            .filter(Boolean)
        : value,
    z.array(item).min(1),
  );

const ContextSchema = z.object({
  domainPrefix: domainPrefix.optional(),
  callbackUrls: list(callbackUrl).default([...DEFAULT_CALLBACK_URLS]),
  removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
  allowedOriginHostnames: list(
    z.string().regex(/^[a-z0-9.-]+$|^\[[0-9a-f:]+\]$/, 'a hostname, without scheme or port'),
  ).default([]),
  stageRateLimit: z.coerce.number().int().positive().default(500),
  stageBurstLimit: z.coerce.number().int().positive().default(1000),
  mcpReservedConcurrency: z.coerce.number().int().positive().optional(),
  alarmEmail: z.email().optional(),
});

export function readAppConfig(node: Node): AppConfig {
  const raw = Object.fromEntries(
    Object.keys(ContextSchema.shape).map((key) => [key, node.tryGetContext(key)]),
  );
  const result = ContextSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `context "${i.path.join('.')}": ${i.message}`);
    throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  }
  const { data } = result;
  return {
    ...(data.domainPrefix ? { domainPrefix: data.domainPrefix } : {}),
    callbackUrls: data.callbackUrls,
    removalPolicy: data.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    allowedOriginHostnames: data.allowedOriginHostnames,
    stageThrottle: { rateLimit: data.stageRateLimit, burstLimit: data.stageBurstLimit },
    ...(data.mcpReservedConcurrency ? { mcpReservedConcurrency: data.mcpReservedConcurrency } : {}),
    ...(data.alarmEmail ? { alarmEmail: data.alarmEmail } : {}),
  };
}
