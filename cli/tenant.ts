/**
 * The operator's tenant CLI. It uses the same admin module as the tenant-admin MCP tools.
 *
 *   npm run tenant -- list
 *   npm run tenant -- show <tenant>
 *   npm run tenant -- tier <tenant> <free|standard|premium>
 *   npm run tenant -- suspend <tenant>
 *   npm run tenant -- resume <tenant>
 *   npm run tenant -- offboard <tenant> --yes
 *   npm run tenant -- invite <tenant> <email> [--role admin|member]
 *   npm run tenant -- invitations <tenant>
 *   npm run tenant -- revoke <tenant> <invitation id>
 *   npm run tenant -- role <tenant> <user id or e-mail> <admin|member>
 *   npm run tenant -- remove <tenant> <user id or e-mail> --yes
 *   npm run tenant -- reprovision <tenant>
 *   npm run tenant -- usage <tenant> [--from yyyy-mm-dd] [--to yyyy-mm-dd]
 *   npm run tenant -- agents <tenant>
 *   npm run tenant -- agent-create <tenant> <name> --tools a,b [--access read|write]
 *   npm run tenant -- agent-rotate <tenant> <agent id>
 *   npm run tenant -- agent-revoke <tenant> <agent id>
 *   npm run tenant -- audit <tenant> [--from ISO] [--to ISO] [--actor A] [--action A]
 *                                    [--outcome ok|error|refused] [--cursor C]
 *
 * Where: `--stack NAME` reads a deployed stack's outputs (AWS credentials from the usual
 * places); `--local` uses the stack `npm run dev` runs; with neither, the configuration comes
 * from the environment (REGISTRY_TABLE_NAME, DATA_TABLE_NAME, USER_POOL_ID, USAGE_PLAN_IDS,
 * USAGE_TABLE_NAME, AUDIT_TABLE_NAME, AUDIT_LOG_GROUP_NAME). Every command that changes a
 * tenant is recorded in its audit trail as an operator action.
 * Exit codes: 0 done, 2 bad usage or unknown tenant or tier, 1 anything else.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { KMSClient } from '@aws-sdk/client-kms';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { checkAgentTools } from '../lambda/mcp/features/agents/index.js';
import { servedTo } from '../lambda/mcp/features/index.js';
import { facadeUrls, invitationLink } from '../lambda/shared/edge/oauth-metadata.js';
import { parseUsagePlanIds } from '../lambda/shared/edge/usage-plans.js';
import { MonthlyBudget } from '../lambda/shared/fair-use/monthly-budget.js';
import { TIERS } from '../lambda/shared/fair-use/tiers.js';
import { dayOf, UsageMeter } from '../lambda/shared/fair-use/usage-meter.js';
import { ProvisioningQueue } from '../lambda/shared/lifecycle/provisioning-queue.js';
import { TenantAdmin } from '../lambda/shared/lifecycle/tenant-admin.js';
import { createDocumentClient } from '../lambda/shared/platform/aws-clients.js';
import { AppError } from '../lambda/shared/platform/errors.js';
import { AgentAccessSchema, Agents } from '../lambda/shared/registry/agents.js';
import { Invitations } from '../lambda/shared/registry/invitations.js';
import { TenantRegistry } from '../lambda/shared/registry/registry.js';
import { CLI_OUTPUTS, MCP_URL_OUTPUT } from '../lib/stack-outputs.js';
import { printable } from '../local/printable.js';
import { PROJECT_ROOT } from '../local/process.js';
import { OperatorAudit } from './audit.js';

const USAGE = `Usage: npm run tenant -- <command> [arguments] [--stack NAME | --local [--data DIR]]
  list                          all tenants
  show <tenant>                 one tenant and its members
  tier <tenant> <tier>          move to free, standard or premium
  suspend <tenant>              refuse its tokens and requests
  resume <tenant>               undo a suspension
  offboard <tenant> --yes       delete its data, keys and users' access; keep the record
  reprovision <tenant>          queue a tenant stuck in PROVISIONING again
  invite <tenant> <email> [--role admin|member]
                                offer a place; prints the link to send (7 days)
  invitations <tenant>          the tenant's invitations and their status
  revoke <tenant> <invitation>  withdraw a pending invitation
  role <tenant> <user> <role>   make a member (id or e-mail) an admin or a member
  remove <tenant> <user> --yes  remove a member and delete their account
  usage <tenant> [--from yyyy-mm-dd] [--to yyyy-mm-dd]
                                tool calls per day and tool (default: this month), and budget
  agents <tenant>               the tenant's agents (OAuth clients of its own)
  agent-create <tenant> <name> --tools a,b [--access read|write]
                                a new agent; prints its client id and secret (shown once)
  agent-rotate <tenant> <agent> a new secret; the old one and its tokens stop working
  agent-revoke <tenant> <agent> delete an agent; its tokens stop within the cache time
  audit <tenant> [--from ISO] [--to ISO] [--actor A] [--action A] [--outcome ok|error|refused]
                [--cursor C]    the tenant's audit trail, newest first (50 a page)
Options: --stack NAME (a deployed stack's outputs), --local (the stack npm run dev runs, its
data in .dev-data/ or --data DIR), --help`;

class UsageError extends Error {}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        stack: { type: 'string' },
        local: { type: 'boolean', default: false },
        /** Where `npm run dev --data DIR` keeps its data (and its harness.json). */
        data: { type: 'string', default: join(PROJECT_ROOT, '.dev-data') },
        role: { type: 'string', default: 'member' },
        tools: { type: 'string' },
        access: { type: 'string', default: 'read' },
        yes: { type: 'boolean', default: false },
        from: { type: 'string' },
        to: { type: 'string' },
        actor: { type: 'string' },
        action: { type: 'string' },
        outcome: { type: 'string' },
        cursor: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    // An unknown or malformed option: say which, show the usage, exit 2 (no stack trace).
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
})();

async function configuration(): Promise<Record<string, string | undefined>> {
  if (values.local) {
    const file = join(values.data, 'harness.json');
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new UsageError('No local stack is running: start it with npm run dev.');
    }
  }
  if (values.stack) {
    const { Stacks } = await new CloudFormationClient({}).send(
      new DescribeStacksCommand({ StackName: values.stack }),
    );
    const outputs = Stacks?.[0]?.Outputs ?? [];
    return {
      ...Object.fromEntries(
        Object.entries(CLI_OUTPUTS).map(([setting, key]) => [
          setting,
          outputs.find((o) => o.OutputKey === key)?.OutputValue,
        ]),
      ),
      API_BASE_URL: outputs
        .find((o) => o.OutputKey === MCP_URL_OUTPUT)
        ?.OutputValue?.replace(/\/mcp$/, ''),
    };
  }
  return process.env;
}

async function main(): Promise<void> {
  const [command, ...args] = positionals;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!command) throw new UsageError(USAGE);
  const config = await configuration();
  if (values.local) Object.assign(process.env, config);
  const missing = [
    'REGISTRY_TABLE_NAME',
    'DATA_TABLE_NAME',
    'USER_POOL_ID',
    'USAGE_PLAN_IDS',
  ].filter((k) => !config[k]);
  if (missing.length > 0)
    throw new UsageError(`Missing configuration: ${missing.join(', ')}.\n${USAGE}`);

  const registry = new TenantRegistry(createDocumentClient(), config.REGISTRY_TABLE_NAME as string);
  const admin = new TenantAdmin({
    registry,
    invitations: new Invitations(createDocumentClient(), config.REGISTRY_TABLE_NAME as string),
    agents: new Agents(createDocumentClient(), config.REGISTRY_TABLE_NAME as string),
    cognito: new CognitoIdentityProviderClient({}),
    userPoolId: config.USER_POOL_ID as string,
    apigw: new APIGatewayClient({}),
    usagePlanIds: parseUsagePlanIds(config.USAGE_PLAN_IDS as string),
    kms: new KMSClient({}),
    tagging: new ResourceGroupsTaggingAPIClient({}),
    secretsManager: new SecretsManagerClient({}),
    data: { db: createDocumentClient(), tableName: config.DATA_TABLE_NAME as string },
    queue: new ProvisioningQueue(new SQSClient({}), config.PROVISIONING_QUEUE_URL as string),
    progress: (message) => process.stdout.write(`  ${message}\n`),
  });
  const need = (count: number) => {
    if (args.length < count) throw new UsageError(USAGE);
  };
  const audit = new OperatorAudit({
    tableName: config.AUDIT_TABLE_NAME,
    logGroup: config.AUDIT_LOG_GROUP_NAME,
  });

  switch (command) {
    case 'list': {
      const tenants = await admin.list();
      for (const t of tenants) {
        process.stdout.write(
          `${t.tenantId.padEnd(40)} ${t.tier.padEnd(9)} ${t.status.padEnd(13)} ${printable(t.name)}\n`,
        );
      }
      process.stdout.write(`${tenants.length} tenant(s)\n`);
      return;
    }
    case 'show': {
      need(1);
      const tenant = await admin.tenant(args[0] as string);
      const members = await admin.members(tenant.tenantId);
      const tier = TIERS[tenant.tier];
      process.stdout.write(
        `${[
          `Tenant:   ${tenant.tenantId} (${printable(tenant.name)})`,
          `Status:   ${tenant.status}`,
          `Tier:     ${tenant.tier} (${tier.throttle.rateLimit} req/s, burst ${tier.throttle.burstLimit}, ${tier.quota.limit}/${tier.quota.period.toLowerCase()})`,
          `KMS key:  ${tenant.kmsKeyArn ?? (tenant.dataKey ? 'none (a data key wrapped by the pooled key)' : '-')}`,
          ...(tenant.migration
            ? [
                `Changing: ${tenant.migration.from} -> ${tenant.migration.to}, step ${tenant.migration.step} since ${tenant.migration.since}`,
              ]
            : []),
          `API key:  ${tenant.apiKeyId ?? '-'}`,
          `Created:  ${tenant.createdAt}`,
          `Members (${members.length}):`,
          ...members.map(
            (m) => `  ${m.role.padEnd(7)} ${printable(m.email ?? '-')} (${m.userSub})`,
          ),
        ].join('\n')}\n`,
      );
      return;
    }
    case 'tier':
      need(2);
      await admin.changeTier(args[0] as string, args[1] as string);
      await audit.record(args[0] as string, 'tier', [args[1] as string]);
      process.stdout.write(`${args[0]} is now on the ${args[1]} tier.\n`);
      return;
    case 'suspend':
      need(1);
      await admin.suspend(args[0] as string);
      await audit.record(args[0] as string, 'suspend');
      process.stdout.write(`${args[0]} is suspended.\n`);
      return;
    case 'resume':
      need(1);
      await admin.resume(args[0] as string);
      await audit.record(args[0] as string, 'resume');
      process.stdout.write(`${args[0]} is active again.\n`);
      return;
    case 'offboard':
      need(1);
      if (!values.yes) {
        throw new UsageError(
          `Offboarding deletes ${args[0]}'s data for good. Run again with --yes to go ahead.`,
        );
      }
      await admin.offboard(args[0] as string);
      await audit.record(args[0] as string, 'offboard');
      process.stdout.write(`${args[0]} is offboarded.\n`);
      return;
    case 'invite': {
      need(2);
      const { invitation, code } = await admin.invite(
        args[0] as string,
        args[1] as string,
        values.role ?? 'member',
      );
      await audit.record(invitation.tenantId, 'invite', [invitation.invitationId]);
      const base = config.API_BASE_URL;
      process.stdout.write(
        `${printable(invitation.email)} is invited to ${invitation.tenantId} as ${invitation.role} until ${invitation.expiresAt} (invitation ${invitation.invitationId}).\nSend them this link (shown once); they accept by signing up with that address through it:\n  ${base ? invitationLink(base, code) : `<API base URL>/invitations?code=${code}`}\n`,
      );
      return;
    }
    case 'invitations': {
      need(1);
      const list = await admin.invitations(args[0] as string);
      for (const i of list) {
        process.stdout.write(
          `${i.invitationId}  ${i.status.padEnd(8)} ${i.role.padEnd(7)} until ${i.expiresAt}  ${printable(i.email)}\n`,
        );
      }
      process.stdout.write(`${list.length} invitation(s)\n`);
      return;
    }
    case 'revoke': {
      need(2);
      await admin.revokeInvitation(args[0] as string, args[1] as string);
      await audit.record(args[0] as string, 'revoke', [args[1] as string]);
      process.stdout.write(`Invitation ${printable(args[1] as string)} is withdrawn.\n`);
      return;
    }
    case 'role': {
      need(3);
      const tenantId = args[0] as string;
      const member = await admin.setRole(
        tenantId,
        await memberId(admin, tenantId, args[1] as string),
        args[2] as string,
      );
      // Members are named by pseudonym in the trail, which the CLI cannot compute: no target.
      await audit.record(tenantId, 'role', [member.role]);
      process.stdout.write(
        `${printable(member.email ?? member.userSub)} is a${member.role === 'admin' ? 'n' : ''} ${member.role} of ${tenantId}; their current tokens follow within the authorizer cache time.\n`,
      );
      return;
    }
    case 'remove': {
      need(2);
      const tenantId = args[0] as string;
      if (!values.yes) {
        throw new UsageError(
          `Removing deletes the member's account. Run again with --yes to go ahead.`,
        );
      }
      await admin.removeMember(tenantId, await memberId(admin, tenantId, args[1] as string));
      await audit.record(tenantId, 'remove');
      process.stdout.write(
        `${printable(args[1] as string)} is no longer a member of ${tenantId}.\n`,
      );
      return;
    }
    case 'reprovision': {
      need(1);
      const tenant = await admin.tenant(args[0] as string);
      if (tenant.status !== 'PROVISIONING') {
        throw new UsageError(`${tenant.tenantId} is ${tenant.status}, not PROVISIONING.`);
      }
      if (!config.PROVISIONING_QUEUE_URL)
        throw new UsageError('Missing configuration: PROVISIONING_QUEUE_URL.');
      await new ProvisioningQueue(new SQSClient({}), config.PROVISIONING_QUEUE_URL).request(
        tenant.tenantId,
        `cli-${Date.now()}`,
      );
      process.stdout.write(`${tenant.tenantId} is queued for provisioning.\n`);
      return;
    }
    case 'audit': {
      need(1);
      const tenant = await admin.tenant(args[0] as string);
      await audit.print(tenant.tenantId, {
        ...(values.from ? { from: values.from } : {}),
        ...(values.to ? { to: values.to } : {}),
        ...(values.actor ? { actor: values.actor } : {}),
        ...(values.action ? { action: values.action } : {}),
        ...(values.outcome ? { outcome: values.outcome as 'ok' } : {}),
        ...(values.cursor ? { cursor: values.cursor } : {}),
      });
      return;
    }
    case 'usage': {
      need(1);
      if (!config.USAGE_TABLE_NAME)
        throw new UsageError('Missing configuration: USAGE_TABLE_NAME.');
      const tenant = await admin.tenant(args[0] as string);
      const day = /^\d{4}-\d{2}-\d{2}$/;
      const to = values.to ?? dayOf(Date.now());
      const from = values.from ?? `${to.slice(0, 7)}-01`;
      if (!day.test(from) || !day.test(to) || from > to) {
        throw new UsageError('--from and --to are days (yyyy-mm-dd), --from on or before --to.');
      }
      const db = createDocumentClient();
      const rows = await new UsageMeter(db, config.USAGE_TABLE_NAME).report(
        tenant.tenantId,
        from,
        to,
      );
      const spent = await new MonthlyBudget(db, config.USAGE_TABLE_NAME).spent(tenant.tenantId);
      const limit = TIERS[tenant.tier].monthlyToolCalls;
      process.stdout.write(`Usage of ${tenant.tenantId}, ${from} to ${to}:\n`);
      for (const row of rows) {
        const average = row.calls ? Math.round(row.totalDurationMs / row.calls) : 0;
        process.stdout.write(
          `  ${row.day}  ${printable(row.tool).padEnd(22)} ${String(row.calls).padStart(8)} calls  ${row.errors} errors  ${average} ms avg\n`,
        );
      }
      const total = rows.reduce((n, r) => n + r.calls, 0);
      process.stdout.write(
        `  ${total} call(s). This month's budget: ${spent} of ${limit} tool calls spent.\n`,
      );
      return;
    }
    case 'agents': {
      need(1);
      const list = await admin.agents(args[0] as string);
      for (const a of list) {
        process.stdout.write(
          `${a.agentId}  ${a.access.padEnd(5)} gen ${a.generation}  ${printable(a.name).padEnd(24)} ${a.tools.join(',')}\n`,
        );
      }
      process.stdout.write(`${list.length} agent(s)\n`);
      return;
    }
    case 'agent-create': {
      need(2);
      const tenant = await admin.tenant(args[0] as string);
      const tools = (values.tools ?? '').split(',').filter(Boolean);
      const access = AgentAccessSchema.safeParse(values.access);
      if (tools.length === 0 || !access.success) {
        throw new UsageError('agent-create needs --tools a,b and --access read or write.');
      }
      checkAgentTools(tools, access.data, {
        grantable: servedTo({ tier: tenant.tier, role: 'member' }).tools,
      });
      const { agent, clientSecret } = await admin.createAgent(tenant.tenantId, {
        name: args[1] as string,
        tools,
        access: access.data,
      });
      await audit.record(tenant.tenantId, 'agent-create', [agent.agentId]);
      printCredentials(agent.clientId, clientSecret, config.API_BASE_URL);
      return;
    }
    case 'agent-rotate': {
      need(2);
      const { agent, clientSecret } = await admin.rotateAgent(args[0] as string, args[1] as string);
      await audit.record(args[0] as string, 'agent-rotate', [agent.agentId]);
      printCredentials(agent.clientId, clientSecret, config.API_BASE_URL);
      return;
    }
    case 'agent-revoke': {
      need(2);
      await admin.revokeAgent(args[0] as string, args[1] as string);
      await audit.record(args[0] as string, 'agent-revoke', [args[1] as string]);
      process.stdout.write(
        `Agent ${printable(args[1] as string)} is revoked; its tokens stop within the authorizer cache time.\n`,
      );
      return;
    }
    default:
      throw new UsageError(`Unknown command "${command}".\n${USAGE}`);
  }
}

/** An agent's credentials, printed once. */
function printCredentials(clientId: string, clientSecret: string, apiBaseUrl?: string): void {
  const tokenUrl = apiBaseUrl ? facadeUrls(apiBaseUrl).token : '<API base URL>/oauth/token';
  process.stdout.write(
    `Client id:     ${clientId}\nClient secret: ${clientSecret}   (shown once: store it now)\nTokens:        POST grant_type=client_credentials to ${tokenUrl} with HTTP Basic authentication\n`,
  );
}

/** A member's user id, given as the id or as the e-mail address the tenant has for them. */
async function memberId(admin: TenantAdmin, tenantId: string, user: string): Promise<string> {
  if (!user.includes('@')) return user;
  const member = (await admin.members(tenantId)).find(
    (m) => m.email?.toLowerCase() === user.trim().toLowerCase(),
  );
  if (!member) throw new UsageError(`No member of ${tenantId} has the address ${printable(user)}.`);
  return member.userSub;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    if (error instanceof AppError && error.status < 500) {
      process.stderr.write(`${error.publicMessage}\n`);
      process.exit(error.status === 404 || error.status === 400 ? 2 : 1);
    }
    process.stderr.write(`Failed: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
