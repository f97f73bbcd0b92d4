import type { Session } from '../stand-ins/sessions.js';
import { type Decision, decideIam, type NamedPolicy } from './template-policies.js';

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';

export interface SessionRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | string[]>>;
  /** The resource's own policy, for services that have one (a KMS key policy). */
  readonly resourcePolicy?: unknown;
}

/**
 * IAM for requests signed with an STS session the stand-in issued: the session's role's
 * policies as CDK deploys them (local/deployed-contract.ts), its session tags as principal
 * tags, decided by the same policy evaluator the infra tests use. Only the data-access role
 * assumes sessions locally; a session of any other role has no policies, so it may do nothing.
 * Decisions are kept (a request's decision depends only on what is passed in).
 */
export class LocalIam {
  private readonly decisions = new Map<string, Promise<Decision>>();

  constructor(private readonly roles: Readonly<Record<string, readonly NamedPolicy[]>>) {}

  decide(session: Session, request: SessionRequest): Promise<Decision> {
    const roleName = session.roleArn.split('/').pop() ?? '';
    const policies = this.roles[session.roleArn] ?? [];
    const context: Record<string, string | string[]> = { ...request.context };
    for (const [key, value] of Object.entries(session.tags)) {
      context[`aws:PrincipalTag/${key}`] = value;
    }
    const cacheKey = JSON.stringify([session.roleArn, request, context]);
    let decision = this.decisions.get(cacheKey);
    if (!decision) {
      decision = decideIam({
        principal: `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${roleName}/${session.sessionName}`,
        identityPolicies: policies,
        action: request.action,
        resource: request.resource,
        account: LOCAL_ACCOUNT,
        context,
        allContextKeys: true,
        ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
      });
      this.decisions.set(cacheKey, decision);
      if (this.decisions.size > 10_000) {
        const [oldest] = this.decisions.keys();
        if (oldest !== undefined) this.decisions.delete(oldest);
      }
    }
    return decision;
  }
}
