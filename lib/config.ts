import { RemovalPolicy, Token } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import * as z from 'zod';
import { redirectUriProblem } from '../lambda/authorization-server/redirect-uris.js';
import { RECLAIM_DEFAULTS } from '../lambda/shared/lifecycle/reclaim-settings.js';
import { SIGN_UP_LIMITS } from '../lambda/shared/lifecycle/sign-up-limits.js';

/**
 * Deployment settings, read from CDK context (`cdk.json` or `-c key=value`) and validated
 * before anything is synthesized.
 */
export interface AppConfig {
  /** Cognito domain prefix for Managed Login; the identity construct picks one if unset. */
  readonly domainPrefix?: string;
  /** OAuth redirect URIs of the MCP clients that may sign in. */
  readonly callbackUrls: readonly string[];
  /**
   * RETAIN_ON_UPDATE_OR_DELETE (the default) keeps tables, the user pool, secrets and log
   * groups when the stack is deleted or a resource replaced, but not when its creation fails,
   * so a failed first deploy leaves nothing behind (no deletion protection, which would block
   * that rollback).
   */
  readonly removalPolicy: RemovalPolicy;
  /** Hostnames a browser Origin may name when calling the MCP endpoint. */
  readonly allowedOriginHostnames: readonly string[];
  /** The global limit: requests per second (steady and burst) for all tenants together. */
  readonly stageThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Reserved concurrency of the MCP function, if any (also caps its cost). */
  readonly mcpReservedConcurrency?: number;
  /** An e-mail address subscribed to the alarm topic. */
  readonly alarmEmail?: string;
  /** How many days audit records are kept before DynamoDB's TTL removes them. */
  readonly auditRetentionDays: number;
  /**
   * Idle free tenants (lambda/shared/lifecycle/reclaim.ts): noticed by e-mail from `noticeSender`
   * after `idleDays` without use, offboarded `noticeDays` later if still unused. Without a sender
   * nothing is reclaimed (the reclaimer is not deployed).
   */
  readonly reclaim: {
    readonly idleDays: number;
    readonly noticeDays: number;
    readonly noticeSender?: string;
  };
  /**
   * Self sign-ups per UTC day before the pre-sign-up trigger refuses more (invited sign-ups are
   * not counted); an alarm fires at 80 % (lambda/shared/lifecycle/sign-up-limits.ts).
   */
  readonly signUpDailyCap: number;
}

export { DEFAULT_CALLBACK_URLS } from '../lambda/shared/edge/oauth-metadata.js';

import { DEFAULT_CALLBACK_URLS } from '../lambda/shared/edge/oauth-metadata.js';

const domainPrefix = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
    'lowercase letters, digits and hyphens, 1-63 characters',
  )
  .refine((value) => !/aws|amazon|cognito/.test(value), {
    message: 'Cognito refuses prefixes containing "aws", "amazon" or "cognito"',
  });

/**
 * Redirect URIs of the pre-registered client `mcp-client`. They are the façade's list, never
 * Cognito's: the façade's own Cognito app client has one https callback (its own), so the
 * loopback http URIs native MCP clients use (RFC 8252 7.3) never reach Cognito, which documents
 * plain http for `localhost` only. The façade's rules for registered clients apply here too.
 */
const callbackUrl = z.string().superRefine((value, ctx) => {
  const problem = redirectUriProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `"${value}" ${problem}` });
});

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
  auditRetentionDays: z.coerce.number().int().min(1).max(3653).default(365),
  idleFreeTenantDays: z.coerce.number().int().min(1).max(3650).default(RECLAIM_DEFAULTS.idleDays),
  reclaimNoticeDays: z.coerce.number().int().min(1).max(365).default(RECLAIM_DEFAULTS.noticeDays),
  noticeSender: z.email().optional(),
  signUpDailyCap: z.coerce.number().int().min(1).max(1_000_000).default(SIGN_UP_LIMITS.dailyCap),
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
    removalPolicy:
      data.removalPolicy === 'destroy'
        ? RemovalPolicy.DESTROY
        : RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    allowedOriginHostnames: data.allowedOriginHostnames,
    stageThrottle: { rateLimit: data.stageRateLimit, burstLimit: data.stageBurstLimit },
    ...(data.mcpReservedConcurrency ? { mcpReservedConcurrency: data.mcpReservedConcurrency } : {}),
    ...(data.alarmEmail ? { alarmEmail: data.alarmEmail } : {}),
    auditRetentionDays: data.auditRetentionDays,
    reclaim: {
      idleDays: data.idleFreeTenantDays,
      noticeDays: data.reclaimNoticeDays,
      ...(data.noticeSender ? { noticeSender: data.noticeSender } : {}),
    },
    signUpDailyCap: data.signUpDailyCap,
  };
}

/**
 * Partitions whose Cognito offers no Managed Login with the Essentials plan and access-token
 * customization this design needs (user pools are not offered in China (Beijing); GovCloud
 * and the isolated partitions document neither Managed Login branding nor feature plans).
 */
const PARTITIONS_WITHOUT_MANAGED_LOGIN: Readonly<Record<string, string>> = {
  'cn-': 'AWS China',
  'us-gov-': 'AWS GovCloud (US)',
  'us-iso': 'AWS isolated Regions',
  'eu-isoe-': 'AWS isolated Regions',
};

/**
 * Refuses, at synth, a Region whose Cognito cannot serve Managed Login to tenants. An
 * environment-agnostic stack (no Region at synth) is not checked: pass `--region` or set
 * CDK_DEFAULT_REGION (the CDK CLI does from your profile) to have it checked.
 */
export function assertManagedLoginRegion(region: string): void {
  if (Token.isUnresolved(region)) return;
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new Error(`Invalid configuration: Region "${region}" is not an AWS Region name.`);
  }
  for (const [prefix, partition] of Object.entries(PARTITIONS_WITHOUT_MANAGED_LOGIN)) {
    if (region.startsWith(prefix)) {
      throw new Error(
        `Invalid configuration: Region "${region}" (${partition}) has no Cognito Managed Login ` +
          'with the Essentials plan; deploy to a commercial AWS Region (CDK_DEFAULT_REGION or --region).',
      );
    }
  }
}
