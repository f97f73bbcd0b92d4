import { join } from 'node:path';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { API_STAGE_NAME } from '../lambda/shared/edge/api-contract.js';
import { MCP_PATH, PROTECTED_RESOURCE_PATH } from '../lambda/shared/edge/oauth-metadata.js';
import { preTokenV2Event } from '../local/events.js';
import { PROJECT_ROOT } from '../local/process.js';
import { proxyEvent } from '../local/proxy-event.js';
import { bundle, type ColdStart, coldStart, lambdaEntries } from './bundles.js';

export interface ColdStartTenant {
  readonly tenantId: string;
  readonly sub: string;
  readonly token: string;
  readonly noteId: string;
}

export interface ColdStartRow extends Omit<ColdStart, 'answer'> {
  readonly name: string;
  readonly sizeKiB: number;
}

/**
 * Size and cold initialisation of every Lambda as bundled for deployment, and of the baseline
 * (bench/baseline-handler.ts) bundled the same way. The functions on the request path answer
 * a first real event against the local stack: the authorizer a token, the MCP handler
 * `tools/call notes_get` with the authorizer's context (first AssumeRole, data key and read
 * included), the baseline the same call, pre-token generation a sign-in, the metadata
 * function a GET. The others change state when invoked, so only their import is timed.
 */
/**
 * Settings of functions that run only at deploy time (the local stack has no value for them):
 * only their import is timed, which reads the names and calls nothing.
 */
const DEPLOY_ONLY: Record<string, Record<string, string>> = {
  'console-publisher': { CONSOLE_BUCKET_NAME: 'bench-console', CONSOLE_DISTRIBUTION_ID: 'EBENCH' },
};

export async function measureColdStarts(env: Record<string, string>, tenant: ColdStartTenant) {
  const { bundles, remove } = await bundle([
    ...(await lambdaEntries()),
    { name: 'baseline', entry: join(PROJECT_ROOT, 'bench', 'baseline-handler.ts') },
  ]);
  const rows: ColdStartRow[] = [];
  const measure = (name: string, event?: unknown) => {
    const found = bundles.get(name);
    if (!found) throw new Error(`no Lambda named ${name}`);
    const { answer, ...figures } = coldStart(found.file, { ...env, ...DEPLOY_ONLY[name] }, event);
    rows.push({ name, sizeKiB: found.sizeKiB, ...figures });
    return answer;
  };
  try {
    const api = new URL(env.API_BASE_URL as string);
    const methodArn = `arn:aws:execute-api:us-east-1:000000000000:local/${API_STAGE_NAME}/POST${MCP_PATH}`;
    const policy = measure('authorizer', {
      type: 'TOKEN',
      authorizationToken: `Bearer ${tenant.token}`,
      methodArn,
    }) as APIGatewayAuthorizerResult;
    if (policy.policyDocument.Statement[0]?.Effect !== 'Allow') {
      throw new Error('the authorizer did not allow the benchmark token');
    }

    const call = (args: Record<string, unknown>) =>
      proxyEvent(
        {
          method: 'POST',
          url: new URL(MCP_PATH, api),
          rawHeaders: [
            ...['Host', api.host, 'Content-Type', 'application/json'],
            ...['Accept', 'application/json, text/event-stream'],
            ...['Mcp-Protocol-Version', '2026-07-28', 'Mcp-Method', 'tools/call'],
            ...['Mcp-Name', 'notes_get', 'Authorization', `Bearer ${tenant.token}`],
          ],
          body: Buffer.from(
            JSON.stringify({
              jsonrpc: '2.0',
              id: 1,
              method: 'tools/call',
              params: {
                name: 'notes_get',
                arguments: args,
                _meta: {
                  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
                  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
                  'io.modelcontextprotocol/clientCapabilities': {},
                },
              },
            }),
          ),
          sourceIp: '127.0.0.1',
        },
        MCP_PATH,
        { ...policy.context, principalId: policy.principalId },
      );
    expectNote(measure('mcp', call({ id: tenant.noteId })), tenant.noteId);
    expectNote(
      measure('baseline', call({ tenantId: tenant.tenantId, id: tenant.noteId })),
      tenant.noteId,
    );

    const shaped = measure(
      'pre-token-generation',
      preTokenV2Event({ sub: tenant.sub, userPoolId: env.USER_POOL_ID }),
    );
    if (!JSON.stringify(shaped).includes(tenant.tenantId)) {
      throw new Error('pre-token generation did not add the tenant');
    }
    const metadata = measure(
      'protected-resource',
      proxyEvent(
        {
          method: 'GET',
          url: new URL(PROTECTED_RESOURCE_PATH, api),
          rawHeaders: ['Host', api.host],
          body: Buffer.alloc(0),
          sourceIp: '127.0.0.1',
        },
        PROTECTED_RESOURCE_PATH,
        null,
      ),
    ) as { statusCode: number };
    if (metadata.statusCode !== 200) throw new Error('the metadata function did not answer 200');

    for (const name of bundles.keys()) {
      if (!rows.some((row) => row.name === name)) measure(name);
    }
  } finally {
    await remove();
  }
  const byName = (name: string) => rows.find((row) => row.name === name);
  const mcp = byName('mcp')?.firstAnswerMs ?? Number.NaN;
  const baseline = byName('baseline')?.firstAnswerMs ?? Number.NaN;
  return { rows, mcpToBaselineFirstAnswerRatio: Math.round((mcp / baseline) * 100) / 100 };
}

function expectNote(answer: unknown, noteId: string): void {
  const { statusCode, body } = answer as { statusCode: number; body: string };
  if (statusCode !== 200 || !body.includes(noteId)) {
    throw new Error(`notes_get did not answer with the note: ${statusCode} ${body.slice(0, 200)}`);
  }
}
