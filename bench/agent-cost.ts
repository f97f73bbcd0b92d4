import { AGENT_TOKEN_TTL_SECONDS } from '../lambda/shared/edge/agent-token.js';
import { PRICES } from './cost-model.js';

/**
 * What agent identities cost a month, by the two ways to issue their tokens (docs/COST.md,
 * "Agents"): Cognito machine-to-machine app clients (one app client per agent, the client
 * credentials grant at the user pool's token endpoint, the pre-token generation V3 trigger
 * adding the tenant), or the authorization façade's own token endpoint signing with one KMS
 * asymmetric key (what this stack does). Prices and quotas as researched on 2026-12-02; see
 * the sources in docs/COST.md.
 */
export const AGENT_PRICES = {
  /** Cognito M2M: per successful token request (the first tier); no free tier. */
  cognitoPerTokenRequest: 0.00225,
  /**
   * Cognito M2M: per app client a month. AWS announced its removal on 2025-11-03; it was $6,
   * and is kept here as a flag (`--cognito-client-fee 6`) for accounts still billed so.
   */
  cognitoPerAppClientMonth: 0,
  /**
   * KMS asymmetric Sign: $0.15 per 10,000 requests for asymmetric keys. Requests on RSA 2048
   * keys may be billed at the symmetric $0.03 (sources disagree): the higher price is used.
   */
  kmsPer10kAsymmetricRequests: 0.15,
} as const;

/** Quotas that decide whether a mechanism fits at all (Cognito and KMS quotas pages). */
export const AGENT_QUOTAS = {
  /** App clients per user pool: 1,000 by default, adjustable to at most 10,000. */
  cognitoAppClientsDefault: 1_000,
  cognitoAppClientsMax: 10_000,
  /** CreateUserPoolClient: 5 a second per pool (not adjustable). */
  cognitoClientCreatesPerSecond: 5,
  /** Client credentials token requests (ClientAuthentication): 150 a second per account. */
  cognitoTokenRequestsPerSecond: 150,
  /** KMS RSA cryptographic operations (Sign included): 1,000 a second per account, adjustable. */
  kmsRsaOperationsPerSecond: 1_000,
} as const;

export interface AgentWorkload {
  readonly agents: number;
  /** Token requests a month per agent: an always-on agent renews before each token expires. */
  readonly tokensPerAgentMonth: number;
  /** Billed duration of the façade's token request, at 256 MB. */
  readonly facadeMs: number;
  /**
   * DynamoDB read units per token request: the agent, its tenant, its creator's membership and
   * the previous window's attempt counter (a token exchange also reads the person's).
   */
  readonly readUnitsPerToken: number;
  /** Write units per token request: the attempt taken before the check, given back after. */
  readonly writeUnitsPerToken: number;
  /** Per app client a month (Cognito's retired M2M client fee, if it still applies). */
  readonly cognitoClientFee: number;
}

export const DEFAULT_AGENT_WORKLOAD: AgentWorkload = {
  agents: 10_000,
  tokensPerAgentMonth: Math.ceil((30 * 24 * 3600) / AGENT_TOKEN_TTL_SECONDS),
  facadeMs: 50,
  readUnitsPerToken: 4,
  writeUnitsPerToken: 2,
  cognitoClientFee: AGENT_PRICES.cognitoPerAppClientMonth,
};

export interface AgentMechanismCost {
  readonly name: string;
  readonly monthly: number;
  readonly perAgent: number;
  /** Token requests a second, on average, against the mechanism's rate quota. */
  readonly tokenRequestsPerSecond: number;
  readonly tokenRateQuota: number;
  /** Why it does not fit, if it does not. */
  readonly limit?: string;
}

/** Both mechanisms for the same agents and token renewals. */
export function agentCost(
  w: AgentWorkload,
  p = PRICES,
  a = AGENT_PRICES,
): { cognito: AgentMechanismCost; facade: AgentMechanismCost } {
  const tokens = w.agents * w.tokensPerAgentMonth;
  const perSecond = tokens / (30 * 24 * 3600);
  const cognito = tokens * a.cognitoPerTokenRequest + w.agents * w.cognitoClientFee;
  const lambdaPerToken =
    p.lambdaPerMillionRequests / 1_000_000 + 0.25 * (w.facadeMs / 1000) * p.lambdaArmPerGbSecond;
  const facade =
    // Two keys: access tokens, and webhook credentials (kept apart, see SECURITY.md).
    2 * p.kmsPerKeyMonth +
    (tokens / 10_000) * a.kmsPer10kAsymmetricRequests +
    (tokens / 1_000_000) * p.apiGatewayRestPerMillion +
    tokens * lambdaPerToken +
    ((tokens * w.readUnitsPerToken) / 1_000_000) * p.dynamodbPerMillionReadUnits +
    ((tokens * w.writeUnitsPerToken) / 1_000_000) * p.dynamodbPerMillionWriteUnits;
  const per = (monthly: number) => (w.agents > 0 ? monthly / w.agents : 0);
  return {
    cognito: {
      name: 'Cognito M2M app clients + pre-token V3',
      monthly: cognito,
      perAgent: per(cognito),
      tokenRequestsPerSecond: perSecond,
      tokenRateQuota: AGENT_QUOTAS.cognitoTokenRequestsPerSecond,
      ...(w.agents > AGENT_QUOTAS.cognitoAppClientsMax
        ? { limit: `more than ${AGENT_QUOTAS.cognitoAppClientsMax} app clients in one user pool` }
        : w.agents > AGENT_QUOTAS.cognitoAppClientsDefault
          ? {
              limit: `needs the app-client quota raised past ${AGENT_QUOTAS.cognitoAppClientsDefault}`,
            }
          : {}),
    },
    facade: {
      name: 'Façade token endpoint + KMS RSA key',
      monthly: facade,
      perAgent: per(facade),
      tokenRequestsPerSecond: perSecond,
      tokenRateQuota: AGENT_QUOTAS.kmsRsaOperationsPerSecond,
    },
  };
}
