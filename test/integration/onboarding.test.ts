import {
  APIGatewayClient,
  GetApiKeysCommand,
  GetUsagePlanKeysCommand,
} from '@aws-sdk/client-api-gateway';
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTenantOnSignUp } from '../../lambda/post-confirmation/create-tenant.js';
import { parseUsagePlanIds } from '../../lambda/shared/edge/usage-plans.js';
import { ProvisioningQueue } from '../../lambda/shared/lifecycle/provisioning-queue.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { logger } from '../../lambda/shared/platform/observability.js';
import { Invitations } from '../../lambda/shared/registry/invitations.js';
import { waitForStatus } from '../../local/seed.js';
import { localAdmin } from '../support/admin.js';
import { accessToken, connect, toolOutput } from '../support/mcp.js';
import { testPseudonyms } from '../support/pseudonyms.js';
import { localRegistry, uniqueTenantId } from '../support/registry.js';
import { clearFaults, inbox, injectFault, stats, tenantKeys } from '../support/stand-in.js';

const cognito = new CognitoIdentityProviderClient({});
const apigw = new APIGatewayClient({});
const registry = localRegistry();
const queue = () =>
  new ProvisioningQueue(new SQSClient({}), process.env.PROVISIONING_QUEUE_URL as string);
const plans = () => parseUsagePlanIds(process.env.USAGE_PLAN_IDS as string);
const PASSWORD = 'Correct-Horse-Battery-9';
/** The post-confirmation event Cognito sends for a confirmed sign-up with these attributes. */
const confirmation = (sub: string, userAttributes: Record<string, string>) => ({
  version: '1',
  triggerSource: 'PostConfirmation_ConfirmSignUp' as const,
  region: 'us-east-1',
  userPoolId: 'local',
  userName: sub,
  callerContext: { awsSdkVersion: 'test', clientId: 'local-mcp-client' },
  request: { userAttributes },
  response: {},
});
/** What the post-confirmation handler gets in the Lambda, on the local stack. */
const triggerDeps = () => ({
  registry,
  queue: queue(),
  logger,
  pseudonyms: testPseudonyms,
  invitations: new Invitations(createDocumentClient(), process.env.REGISTRY_TABLE_NAME as string),
});

async function signUp(email: string, organization?: string) {
  const { UserSub } = await cognito.send(
    new SignUpCommand({
      ClientId: 'local-mcp-client',
      Username: email,
      Password: PASSWORD,
      UserAttributes: [
        { Name: 'email', Value: email },
        ...(organization === undefined
          ? []
          : [{ Name: 'custom:organization', Value: organization }]),
      ],
    }),
  );
  const code = /(\d{6})/.exec((await inbox(email)) ?? '')?.[1];
  await cognito.send(
    new ConfirmSignUpCommand({
      ClientId: 'local-mcp-client',
      Username: email,
      ConfirmationCode: code,
    }),
  );
  return UserSub as string;
}

/** Everything provisioning made for a tenant, counted at the stand-ins. */
async function resourcesOf(tenantId: string) {
  const keys = await tenantKeys(tenantId);
  const { items = [] } = await apigw.send(
    new GetApiKeysCommand({ nameQuery: `tenant-${tenantId}`, includeValues: true }),
  );
  const apiKeys = items.filter((k) => k.name === `tenant-${tenantId}`);
  const memberships: string[] = [];
  for (const [tier, planId] of Object.entries(plans())) {
    const { items: planKeys = [] } = await apigw.send(
      new GetUsagePlanKeysCommand({ usagePlanId: planId }),
    );
    for (const key of planKeys) if (apiKeys.some((k) => k.id === key.id)) memberships.push(tier);
  }
  return {
    enabledKeys: keys.filter((k) => k.state === 'Enabled'),
    apiKeys,
    memberships,
    tenant: await registry.getTenant(tenantId),
  };
}

/** Waits until the provisioning queue holds no message (the runner consumed them all). */
async function waitForQueueDrained(timeoutMs = 10_000): Promise<void> {
  const name = String(process.env.PROVISIONING_QUEUE_URL).split('/').pop();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { depth } = (await (
      await fetch(`${process.env.AWS_ENDPOINT_URL_SQS}/__stand-in/queues/${name}`)
    ).json()) as {
      depth: number;
    };
    if (depth === 0) return;
    if (Date.now() > deadline)
      throw new Error(`provisioning queue still holds ${depth} message(s)`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('self sign-up to an active tenant', () => {
  it('signs up two free organisations end to end, each with its own data key and tokens, and nothing that costs money', async () => {
    const orgs = [
      { email: `founder@${uniqueTenantId('acme')}.example`, name: 'Acme Rockets' },
      { email: `founder@${uniqueTenantId('globex')}.example`, name: 'Globex Corporation' },
    ];
    const results = [];
    for (const org of orgs) {
      const sub = await signUp(org.email, org.name);
      const membership = await registry.getMembership(sub);
      expect(membership?.role).toBe('admin');
      await waitForStatus(registry, membership?.tenantId as string, 'ACTIVE');
      const client = await connect(
        await accessToken({ sub, tenantId: '', role: 'admin' }),
        'modern',
      );
      const me = toolOutput(await client.callTool({ name: 'whoami', arguments: {} }));
      const info = toolOutput(await client.callTool({ name: 'tenant_info', arguments: {} }));
      await client.close();
      results.push({ tenantId: membership?.tenantId as string, me, info });
    }

    const [acme, globex] = results;
    expect(acme?.tenantId).toMatch(/^acme-rockets-[0-9a-f]{8}$/);
    expect(acme?.me).toMatchObject({ tenantId: acme?.tenantId, tier: 'free', role: 'admin' });
    expect(acme?.info).toMatchObject({ name: 'Acme Rockets', status: 'ACTIVE' });
    expect(globex?.me).toMatchObject({ tenantId: globex?.tenantId });
    const [a, g] = [
      await resourcesOf(acme?.tenantId as string),
      await resourcesOf(globex?.tenantId as string),
    ];
    // A free tier is pooled: no KMS key, no API key, no usage-plan key of its own; a data key
    // of its own, wrapped by the pooled key.
    for (const resources of [a, g]) {
      expect(resources.enabledKeys).toEqual([]);
      expect(resources.apiKeys).toEqual([]);
      expect(resources.memberships).toEqual([]);
      expect(resources.tenant?.kmsKeyArn).toBeUndefined();
      expect(resources.tenant?.dataKey).toBeDefined();
    }
    expect(a.tenant?.dataKey).not.toBe(g.tenant?.dataKey);
  });

  it("grants the tenant's key, made when it moves up from free, to the data-access role only with its own tag and context", async () => {
    const sub = await signUp(`founder@${uniqueTenantId('initech')}.example`, 'Initech');
    const tenantId = (await registry.getMembership(sub))?.tenantId as string;
    await waitForStatus(registry, tenantId, 'ACTIVE');
    expect(await tenantKeys(tenantId)).toEqual([]);
    await localAdmin().changeTier(tenantId, 'standard');

    const [key] = await tenantKeys(tenantId);
    const use = key?.policy.Statement.find((s) => s.Sid === 'OwnTenantOnly');

    expect(use?.Action).toEqual(['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey']);
    expect(use?.Condition).toEqual({
      StringEquals: {
        'kms:EncryptionContext:tenantId': tenantId,
        'aws:PrincipalTag/TenantId': tenantId,
      },
    });
    const admin = key?.policy.Statement.find((s) => s.Sid === 'AccountAdministers');
    expect(JSON.stringify(admin?.Action)).not.toMatch(/Decrypt|Encrypt|GenerateDataKey|kms:\*/);
  });

  it('names the tenant after the e-mail domain when the sign-up gave no organisation', async () => {
    const domain = `${uniqueTenantId('hooli')}.example`;
    const sub = await signUp(`founder@${domain}`);
    const tenant = await registry.getTenant(
      (await registry.getMembership(sub))?.tenantId as string,
    );

    expect(tenant?.name).toBe(`${domain} organisation`);
  });

  it.each([
    ['escape codes', 'founder@evil\u001b]0;owned\u0007\u001b[2J.example', 'evil0owned2j.example'],
    ['a bidirectional override', 'founder@gro\u202eup.example', 'group.example'],
    ['a 198-character domain', `founder@${'d'.repeat(190)}.example`, 'd'.repeat(87)],
  ])(
    'names a tenant from an e-mail domain with %s by the one organisation-name rule',
    async (_, email, expected) => {
      // Cognito's own address check is not documented to refuse these: the trigger must not
      // rely on it. The name the trigger makes passes the same rule as a name typed at sign-up.
      const sub = crypto.randomUUID();
      await createTenantOnSignUp(confirmation(sub, { sub, email }), triggerDeps());
      const tenant = await registry.getTenant(
        (await registry.getMembership(sub))?.tenantId as string,
      );

      expect(tenant?.name).toBe(`${expected} organisation`.slice(0, 100));
      expect(tenant?.name.length).toBeLessThanOrEqual(100);
      expect(tenant?.name).not.toMatch(/[\p{Cc}\p{Cf}]/u);
    },
  );

  it.each([
    ['an empty name', '   ', /PreSignUp failed with error Organisation name must not be empty/],
    ['a 500-character name', 'x'.repeat(500), /custom:organization must be between 1 and 100/],
    [
      'a name with control characters',
      'Evil\u0000Corp',
      /PreSignUp failed with error Organisation name/,
    ],
    ['a name with a line break', 'Two\nLines', /PreSignUp failed with error Organisation name/],
  ])('refuses a sign-up with %s and creates nothing', async (_, name, message) => {
    const email = `founder@${uniqueTenantId('bad')}.example`;
    const tenantsBefore = (await registry.listTenants()).length;

    const refusal = signUp(email, name);

    // The length limit is the user pool schema's (Cognito checks it before any trigger); the
    // rest is the pre-sign-up trigger's.
    await expect(refusal).rejects.toMatchObject({ message: expect.stringMatching(message) });
    await expect(
      cognito.send(
        new AdminGetUserCommand({ UserPoolId: process.env.USER_POOL_ID, Username: email }),
      ),
    ).rejects.toMatchObject({ name: 'UserNotFoundException' });
    expect((await registry.listTenants()).length).toBe(tenantsBefore);
  });

  it('creates no tenant for a confirmed user who already belongs to one', async () => {
    const tenantId = uniqueTenantId('existing');
    await registry.createTenant({ tenantId, name: 'Existing', tier: 'free', status: 'ACTIVE' });
    const sub = crypto.randomUUID();
    await registry.createMembership({ userSub: sub, tenantId, role: 'member' });
    const tenantsBefore = (await registry.listTenants()).length;

    await createTenantOnSignUp(
      confirmation(sub, {
        sub,
        email: 'invited@existing.example',
        'custom:organization': 'Other',
      }),
      triggerDeps(),
    );

    expect((await registry.listTenants()).length).toBe(tenantsBefore);
    expect((await registry.getMembership(sub))?.tenantId).toBe(tenantId);
  });
});

describe('provisioning is idempotent', () => {
  afterEach(clearFaults);

  const provisioningTenant = async (prefix: string) => {
    const tenantId = uniqueTenantId(prefix);
    await registry.createTenant({
      tenantId,
      name: prefix,
      tier: 'standard',
      status: 'PROVISIONING',
    });
    return tenantId;
  };

  it('ends with one of everything when the request is delivered twice', async () => {
    const tenantId = await provisioningTenant('twice');
    const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
    const send = (dedupe: string) =>
      new SQSClient({}).send(
        new SendMessageCommand({
          QueueUrl: process.env.PROVISIONING_QUEUE_URL,
          MessageBody: JSON.stringify({ tenantId }),
          MessageGroupId: tenantId,
          MessageDeduplicationId: dedupe,
        }),
      );

    // Two deliveries before either is processed (as after the 5-minute deduplication window).
    await Promise.all([send(`${tenantId}-1`), send(`${tenantId}-2`)]);
    await waitForStatus(registry, tenantId, 'ACTIVE');
    await waitForQueueDrained();

    const resources = await resourcesOf(tenantId);
    expect(resources.enabledKeys).toHaveLength(1);
    expect(resources.apiKeys).toHaveLength(1);
    expect(resources.memberships).toEqual(['standard']);
  });

  it.each([
    ['kms:CreateKey', 'after', 'the key was created but the answer was lost'],
    ['kms:CreateAlias', 'before', 'the key exists without its alias'],
    ['kms:CreateAlias', 'after', 'the alias exists but was not recorded'],
    ['dynamodb:UpdateItem', 'after', 'a resource was recorded but the answer was lost'],
    ['apigateway:POST /apikeys', 'after', 'the API key was created but the answer was lost'],
    [
      'apigateway:POST /usageplans/{id}/keys',
      'after',
      'the key joined its plan but the answer was lost',
    ],
  ] as const)(
    'recovers from a crash on %s (%s: %s) with exactly one of everything',
    async (action, when, _why) => {
      const tenantId = await provisioningTenant('crash');
      const faultsBefore = (await stats())[`fault:${action}`] ?? 0;
      // Three failures exhaust the SDK's retries: the provisioner run fails and is retried.
      await injectFault(action, { times: 3, when });

      await queue().request(tenantId);
      await waitForStatus(registry, tenantId, 'ACTIVE', 20_000);

      const resources = await resourcesOf(tenantId);
      expect((await stats())[`fault:${action}`] ?? 0).toBe(faultsBefore + 3);
      expect(resources.enabledKeys).toHaveLength(1);
      expect(resources.enabledKeys[0]?.arn).toBe(resources.tenant?.kmsKeyArn);
      expect(resources.apiKeys.map((k) => k.id)).toEqual([resources.tenant?.apiKeyId]);
      expect(resources.memberships).toEqual(['standard']);
    },
  );
});
