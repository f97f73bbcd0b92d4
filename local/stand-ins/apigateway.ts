import { randomBytes } from 'node:crypto';
import { type Answer, AwsError, epochSeconds } from './protocol.js';

interface ApiKey {
  id: string;
  value: string;
  name: string;
  enabled: boolean;
  createdDate: number;
  tags: Record<string, string>;
}
interface UsagePlan {
  id: string;
  name: string;
  throttle?: { rateLimit?: number; burstLimit?: number };
  quota?: { limit?: number; period?: string };
  keys: Set<string>;
}

/**
 * The API Gateway control plane for API keys and usage plans (REST JSON protocol): what
 * provisioning, tier changes, suspension and offboarding call. Like API Gateway, a key can be
 * in one usage plan at a time here (one stage), and adding it twice is a conflict.
 */
export class ApiGatewayStandIn {
  readonly keys = new Map<string, ApiKey>();
  readonly plans = new Map<string, UsagePlan>();

  snapshot() {
    return {
      keys: [...this.keys.values()],
      plans: [...this.plans.values()].map((plan) => ({ ...plan, keys: [...plan.keys] })),
    };
  }

  restore(state: ReturnType<ApiGatewayStandIn['snapshot']>): void {
    for (const key of state.keys) this.keys.set(key.id, key);
    for (const plan of state.plans) this.plans.set(plan.id, { ...plan, keys: new Set(plan.keys) });
  }

  handle(method: string, url: URL, input: Record<string, unknown>): Answer {
    try {
      const [status, body] = this.route(method, url, input);
      return {
        status,
        body: body === undefined ? '' : JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      };
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      return {
        status: error.status,
        body: JSON.stringify({ message: error.message }),
        headers: { 'content-type': 'application/json', 'x-amzn-errortype': error.type },
      };
    }
  }

  /** The key a request names by value, with its plan, as the gateway resolves it. */
  keyByValue(value: string): { key: ApiKey; plan?: UsagePlan } | undefined {
    const key = [...this.keys.values()].find((k) => k.value === value);
    if (!key) return undefined;
    return { key, plan: [...this.plans.values()].find((p) => p.keys.has(key.id)) };
  }

  private route(method: string, url: URL, input: Record<string, unknown>): [number, unknown?] {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const [root, id, sub, subId] = parts;
    if (root === 'apikeys' && !id && method === 'POST')
      return [201, this.present(this.createKey(input), true)];
    if (root === 'apikeys' && !id && method === 'GET') {
      const name = url.searchParams.get('name');
      const values = url.searchParams.get('includeValues') === 'true';
      const items = [...this.keys.values()].filter((k) => !name || k.name.startsWith(name));
      return [200, { item: items.map((k) => this.present(k, values)) }];
    }
    if (root === 'apikeys' && id && method === 'GET') {
      return [200, this.present(this.key(id), url.searchParams.get('includeValue') === 'true')];
    }
    if (root === 'apikeys' && id && method === 'PATCH') {
      const key = this.key(id);
      for (const op of (input.patchOperations as Array<{
        op: string;
        path: string;
        value?: string;
      }>) ?? []) {
        if (op.op === 'replace' && op.path === '/enabled') key.enabled = op.value === 'true';
        else if (op.op === 'replace' && op.path === '/name') key.name = String(op.value);
        else throw new AwsError('BadRequestException', `Invalid patch path ${op.path}`);
      }
      return [200, this.present(key, false)];
    }
    if (root === 'apikeys' && id && method === 'DELETE') {
      this.key(id);
      this.keys.delete(id);
      for (const plan of this.plans.values()) plan.keys.delete(id);
      return [202];
    }
    if (root === 'usageplans' && !id && method === 'GET') {
      return [200, { item: [...this.plans.values()].map(({ keys: _, ...plan }) => plan) }];
    }
    if (root === 'usageplans' && !id && method === 'POST') {
      const plan: UsagePlan = {
        id: randomBytes(5).toString('hex'),
        name: String(input.name),
        throttle: input.throttle as UsagePlan['throttle'],
        quota: input.quota as UsagePlan['quota'],
        keys: new Set(),
      };
      this.plans.set(plan.id, plan);
      return [201, { id: plan.id, name: plan.name, throttle: plan.throttle, quota: plan.quota }];
    }
    if (root === 'usageplans' && id && sub === 'keys') {
      const plan = this.plans.get(id);
      if (!plan) throw new AwsError('NotFoundException', 'Invalid Usage Plan ID specified', 404);
      if (method === 'GET' && !subId) {
        return [200, { item: [...plan.keys].map((keyId) => this.planKey(this.key(keyId))) }];
      }
      if (method === 'POST') {
        const key = this.key(String(input.keyId));
        if (plan.keys.has(key.id))
          throw new AwsError(
            'ConflictException',
            'Usage Plan already contains specified API key',
            409,
          );
        const elsewhere = [...this.plans.values()].find((p) => p.keys.has(key.id));
        if (elsewhere) {
          throw new AwsError(
            'ConflictException',
            `API Key ${key.id} already associated with another usage plan`,
            409,
          );
        }
        plan.keys.add(key.id);
        return [201, this.planKey(key)];
      }
      if (method === 'DELETE' && subId) {
        if (!plan.keys.delete(subId))
          throw new AwsError('NotFoundException', 'Invalid API Key identifier specified', 404);
        return [202];
      }
    }
    throw new AwsError(
      'NotFoundException',
      `API Gateway stand-in has no ${method} ${url.pathname}`,
      404,
    );
  }

  private createKey(input: Record<string, unknown>): ApiKey {
    const key: ApiKey = {
      id: randomBytes(5).toString('hex'),
      value: String(input.value ?? randomBytes(20).toString('base64url')),
      name: String(input.name ?? ''),
      enabled: input.enabled === true,
      createdDate: Date.now(),
      tags: (input.tags as Record<string, string>) ?? {},
    };
    this.keys.set(key.id, key);
    return key;
  }

  private key(id: string): ApiKey {
    const key = this.keys.get(id);
    if (!key) throw new AwsError('NotFoundException', 'Invalid API Key identifier specified', 404);
    return key;
  }

  private present(key: ApiKey, withValue: boolean) {
    return {
      id: key.id,
      name: key.name,
      enabled: key.enabled,
      createdDate: epochSeconds(key.createdDate),
      tags: key.tags,
      ...(withValue ? { value: key.value } : {}),
    };
  }

  private planKey(key: ApiKey) {
    return { id: key.id, type: 'API_KEY', name: key.name, value: key.value };
  }
}
