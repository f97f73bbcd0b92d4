import { KMSClient } from '@aws-sdk/client-kms';
import {
  ACCESS_TOKEN_TYPE_URN,
  TOKEN_EXCHANGE_GRANT,
} from '../../lambda/shared/edge/agent-token.js';
import { KmsJwtSigner } from '../../lambda/shared/edge/jwt-signer.js';
import { facadeUrls } from '../../lambda/shared/edge/oauth-metadata.js';
import { accessToken, callTool, harness, type TestUser, toolOutput } from './mcp.js';

export interface TestAgent {
  readonly agentId: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** An agent made the product's way: a tenant admin calls `agents_create`. */
export async function createAgent(
  admin: TestUser,
  input: { name?: string; tools: string[]; access?: 'read' | 'write' },
): Promise<TestAgent> {
  const { result } = await callTool(await accessToken(admin), 'agents_create', {
    name: input.name ?? 'Nightly job',
    tools: input.tools,
    access: input.access ?? 'read',
  });
  const output = toolOutput(result) as {
    agent?: { agentId: string; clientId: string };
    clientSecret?: string;
    error?: string;
  };
  if (!output.agent || !output.clientSecret) {
    throw new Error(`agents_create failed: ${output.error ?? JSON.stringify(output)}`);
  }
  return {
    agentId: output.agent.agentId,
    clientId: output.agent.clientId,
    clientSecret: output.clientSecret,
  };
}

export const tokenEndpoint = () => facadeUrls(harness().gatewayUrl).token;

/** `client_secret_basic` (RFC 6749 2.3.1: each part form-encoded, then Base64). */
export function basic(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

export interface TokenAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** The Retry-After header, if any. */
  readonly retryAfter?: string;
}

/** A raw POST to the token endpoint, as an agent's HTTP client sends it. */
export async function postToken(
  fields: Record<string, string>,
  authorization?: string,
): Promise<TokenAnswer> {
  const response = await fetch(tokenEndpoint(), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(authorization ? { authorization } : {}),
    },
    body: new URLSearchParams(fields).toString(),
  });
  const retryAfter = response.headers.get('retry-after');
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    ...(retryAfter ? { retryAfter } : {}),
  };
}

export function clientCredentials(
  agent: Pick<TestAgent, 'clientId' | 'clientSecret'>,
  fields: Record<string, string> = {},
): Promise<TokenAnswer> {
  return postToken(
    { grant_type: 'client_credentials', ...fields },
    basic(agent.clientId, agent.clientSecret),
  );
}

/** The agent's access token, or an error naming the refusal. */
export async function agentToken(agent: TestAgent, scope?: string): Promise<string> {
  const answer = await clientCredentials(agent, scope ? { scope } : {});
  if (answer.status !== 200) throw new Error(`token refused: ${JSON.stringify(answer.body)}`);
  return String(answer.body.access_token);
}

/** RFC 8693: the agent (authenticated) exchanges a person's access token. */
export function exchange(
  agent: Pick<TestAgent, 'clientId' | 'clientSecret'>,
  subjectToken: string,
  fields: Record<string, string> = {},
): Promise<TokenAnswer> {
  return postToken(
    {
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE_URN,
      ...fields,
    },
    basic(agent.clientId, agent.clientSecret),
  );
}

/** The claims of a JWT, unverified (for reading what a test was given). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

export function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
}

/**
 * The platform's own signer, on the local KMS key: for tests that need a token the façade
 * would never issue (expired, or with claims of the test's choosing) but correctly signed.
 */
export function platformSigner(): KmsJwtSigner {
  return new KmsJwtSigner(new KMSClient({}), String(process.env.TOKEN_SIGNING_KEY_ARN));
}
