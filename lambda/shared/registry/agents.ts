import { randomBytes } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { isConditionFailure } from '../platform/aws-clients.js';
import { ConflictError, InternalError, NotFoundError } from '../platform/errors.js';
import { REGISTRY_TABLE } from '../platform/table-schema.js';
import { type TenantId, TenantIdSchema } from '../tenancy/tenant.js';
import {
  matchesDigest,
  newSecret,
  partitionItems,
  SECRET_PATTERN,
  secretDigest,
} from './partition.js';
import type { TenantRegistry } from './registry.js';

/**
 * Agents: a tenant's unattended callers (a nightly job, a CI bot, a backend integration), each
 * its own OAuth client (client credentials grant, `client_secret_basic`), never a person's
 * borrowed credentials. An agent belongs to exactly one tenant and may call exactly its
 * allowlist of tools, read-only or read-write.
 *
 * Items, in the registry table, one partition per tenant (`AGENTS#<tenant>`), which the
 * tenant-scoped session reaches for its own tenant only (lambda/shared/tenancy/policy.ts):
 *
 * | item  | pk               | sk            |
 * |-------|------------------|---------------|
 * | agent | AGENTS#<tenant>  | AGENT#<id>    |
 *
 * The client id is `<tenant>.<agent id>`, so the token endpoint finds the one item a client id
 * can name without any index; the client secret is shown once and only its SHA-256 is stored
 * (it is 256 random bits: a fast hash is as good as a slow one against guessing).
 */

/** `createdBy` of an agent the operator made (CLI): it belongs to no member. */
export const OPERATOR = 'operator';

/**
 * Whether an agent still has someone behind it: one the operator made always does; one a member
 * made only while that person is a member of the agent's tenant. A removed member's agents die
 * with the membership, even one made in the moments before the removal (while the member's
 * token was still honoured), which the removal's own revocation could miss.
 */
export async function creatorStillMember(
  agent: Pick<AgentRecord, 'createdBy' | 'tenantId'>,
  registry: Pick<TenantRegistry, 'getMembership'>,
): Promise<boolean> {
  if (agent.createdBy === OPERATOR) return true;
  return (await registry.getMembership(agent.createdBy))?.tenantId === agent.tenantId;
}

/** Agents a tenant may have at a time. */
export const AGENTS_PER_TENANT = 25;

export const AgentIdSchema = z.string().regex(/^[0-9a-f]{16}$/, 'not an agent id');
export const AgentNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[\p{L}\p{N} ._-]+$/u, 'letters, digits, spaces, dots, dashes and underscores only');
export const ToolNameSchema = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'not a tool name');
/**
 * Tools an agent may be given: its scope (`tool:<name>` each, at most 70 characters) then fits
 * in the 4,096 characters the token's scope and the authorizer's context allow.
 */
export const MAX_AGENT_TOOLS = 32;
export const AgentAccessSchema = z.enum(['read', 'write']);
export type AgentAccess = z.infer<typeof AgentAccessSchema>;

export const AgentRecordSchema = z.object({
  agentId: AgentIdSchema,
  tenantId: TenantIdSchema,
  name: AgentNameSchema,
  /** The tools it may call: a subset of what a member of its tenant's tier may call. */
  tools: z.array(ToolNameSchema).min(1).max(MAX_AGENT_TOOLS),
  access: AgentAccessSchema,
  secretHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Counts rotations: a token names the generation it was issued under, and dies with it. */
  generation: z.number().int().min(1),
  /** Who created it: a member's Cognito `sub`, or OPERATOR. */
  createdBy: z.string().min(1).max(128),
  createdAt: z.iso.datetime(),
  rotatedAt: z.iso.datetime().optional(),
});
export type AgentRecord = z.infer<typeof AgentRecordSchema>;

/** An agent as an admin sees it: never its secret or the secret's hash. */
export type AgentView = Omit<AgentRecord, 'secretHash' | 'createdBy'> & { clientId: string };

const { partitionKey: PK, sortKey: SK, agentsKeyPrefix: AGENTS } = REGISTRY_TABLE;
const partition = (tenantId: TenantId) => `${AGENTS}${tenantId}`;
const agentKey = (tenantId: TenantId, agentId: string) => ({
  [PK]: partition(tenantId),
  [SK]: `AGENT#${agentId}`,
});

/** `<tenant>.<agent id>`. */
export function agentClientId(tenantId: TenantId, agentId: string): string {
  return `${tenantId}.${agentId}`;
}

/** The tenant and agent a client id names, if it is an agent's client id at all. */
export function parseAgentClientId(
  clientId: string,
): { tenantId: TenantId; agentId: string } | undefined {
  const [tenantId = '', agentId = '', extra] = clientId.split('.');
  if (extra !== undefined) return undefined;
  if (!TenantIdSchema.safeParse(tenantId).success || !AgentIdSchema.safeParse(agentId).success) {
    return undefined;
  }
  return { tenantId, agentId };
}

export class Agents {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * A new agent of `tenantId` and its client secret (shown once). ConflictError past
   * AGENTS_PER_TENANT. The tool list is checked by the caller, which knows the tier.
   */
  async create(
    tenantId: TenantId,
    input: { name: string; tools: readonly string[]; access: AgentAccess; createdBy: string },
  ): Promise<{ agent: AgentView; clientSecret: string }> {
    if ((await this.records(tenantId)).length >= AGENTS_PER_TENANT) {
      throw new ConflictError(
        `Your organisation has ${AGENTS_PER_TENANT} agents, the most it may have; revoke one first.`,
      );
    }
    const clientSecret = newSecret();
    const record = AgentRecordSchema.parse({
      agentId: randomBytes(8).toString('hex'),
      tenantId,
      name: input.name,
      tools: [...new Set(input.tools)].sort(),
      access: input.access,
      secretHash: secretDigest(clientSecret),
      generation: 1,
      createdBy: input.createdBy,
      createdAt: this.now().toISOString(),
    });
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...agentKey(tenantId, record.agentId), ...record },
        ConditionExpression: `attribute_not_exists(${PK})`,
      }),
    );
    return { agent: view(record), clientSecret };
  }

  /** The tenant's agents, oldest first. */
  async list(tenantId: TenantId): Promise<AgentView[]> {
    return (await this.records(tenantId)).map(view);
  }

  /** One agent of the tenant, read strongly consistent (revocation applies at once). */
  async get(tenantId: TenantId, agentId: string): Promise<AgentRecord | undefined> {
    if (!AgentIdSchema.safeParse(agentId).success) return undefined;
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: agentKey(tenantId, agentId),
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const record = parse(Item);
    if (record.tenantId !== tenantId || record.agentId !== agentId) {
      throw new InternalError('Registry agent item names another agent than its key');
    }
    return record;
  }

  /**
   * The agent a client id and secret stand for, or undefined: unknown client, revoked agent
   * or wrong secret look alike (the caller counts the failure).
   */
  async authenticate(clientId: string, clientSecret: string): Promise<AgentRecord | undefined> {
    const named = parseAgentClientId(clientId);
    if (!named || !SECRET_PATTERN.test(clientSecret)) return undefined;
    const agent = await this.get(named.tenantId, named.agentId);
    return agent && matchesDigest(clientSecret, agent.secretHash) ? agent : undefined;
  }

  /**
   * A new secret for the agent: the old one stops working at once, and so does every token
   * issued under it (tokens name the generation). NotFoundError for no such agent.
   */
  async rotate(
    tenantId: TenantId,
    agentId: string,
  ): Promise<{ agent: AgentView; clientSecret: string }> {
    if (!AgentIdSchema.safeParse(agentId).success) throw new NotFoundError('No such agent.');
    const clientSecret = newSecret();
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: agentKey(tenantId, agentId),
          UpdateExpression: 'SET secretHash = :hash, rotatedAt = :at ADD generation :one',
          ConditionExpression: `attribute_exists(${PK})`,
          ExpressionAttributeValues: {
            ':hash': secretDigest(clientSecret),
            ':at': this.now().toISOString(),
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { agent: view(parse(Attributes ?? {})), clientSecret };
    } catch (error) {
      if (isConditionFailure(error)) throw new NotFoundError('No such agent.', { cause: error });
      throw error;
    }
  }

  /** Deletes the agent: no new token, and no request with one it holds. */
  async revoke(tenantId: TenantId, agentId: string): Promise<void> {
    if (!AgentIdSchema.safeParse(agentId).success) throw new NotFoundError('No such agent.');
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: agentKey(tenantId, agentId),
          ConditionExpression: `attribute_exists(${PK})`,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new NotFoundError('No such agent.', { cause: error });
      throw error;
    }
  }

  /**
   * Revokes every agent `createdBy` made (a member who leaves takes their agents along), or
   * every agent of the tenant (offboarding). Returns how many it revoked.
   */
  async revokeAll(tenantId: TenantId, createdBy?: string): Promise<number> {
    const doomed = (await this.records(tenantId)).filter(
      (agent) => createdBy === undefined || agent.createdBy === createdBy,
    );
    for (const agent of doomed) {
      await this.db.send(
        new DeleteCommand({ TableName: this.tableName, Key: agentKey(tenantId, agent.agentId) }),
      );
    }
    return doomed.length;
  }

  private async records(tenantId: TenantId): Promise<AgentRecord[]> {
    const items = await partitionItems(this.db, this.tableName, partition(tenantId), 'AGENT#');
    return items.map(parse).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
}

function view({ secretHash: _hash, createdBy: _by, ...agent }: AgentRecord): AgentView {
  return { ...agent, clientId: agentClientId(agent.tenantId, agent.agentId) };
}

function parse(item: Record<string, unknown>): AgentRecord {
  const result = AgentRecordSchema.safeParse(item);
  if (!result.success) throw new InternalError('Malformed registry item (agent)');
  return result.data;
}
