/**
 * The noisy-neighbour benchmark: tenant B calls `notes_get` at a steady, normal rate while
 * tenant A (same tier) floods the gateway at several times its usage plan's rate. B's latency
 * with and without the flood, and what became of A's requests, show whether one tenant can
 * slow another down.
 */
import { TIERS } from '../lambda/shared/fair-use/tiers.js';

export interface NoisyTenant {
  /** One token per user: B's calls rotate over its users, A floods with its first. */
  readonly tokens: readonly string[];
  readonly noteId: string;
}

const CALLS = 300;
// 20 calls/s from three users: a busy tenant, each user well under its per-user limit.
const B_INTERVAL_MS = 50;
const FLOOD_FACTOR = 4; // A sends four times its plan's steady rate

export async function measureNoisyNeighbour(
  gatewayUrl: string,
  tier: keyof typeof TIERS,
  a: NoisyTenant,
  b: NoisyTenant,
) {
  const quiet = await paced(gatewayUrl, b);
  const floodRate = TIERS[tier].throttle.rateLimit * FLOOD_FACTOR;
  const flood = startFlood(gatewayUrl, a, floodRate);
  const loud = await paced(gatewayUrl, b);
  const outcome = await flood.stop();

  return {
    tier,
    bCallsPerSecond: 1000 / B_INTERVAL_MS,
    aRequestsPerSecond: floodRate,
    bAlone: quiet,
    bDuringFlood: loud,
    ratioP50: round(loud.p50 / quiet.p50),
    ratioP95: round(loud.p95 / quiet.p95),
    aRequests: outcome.total,
    aServed: outcome.ok,
    aThrottledByUsagePlan: outcome.planThrottled,
    aRefusedPerUser: outcome.userLimited,
    aOther: outcome.total - outcome.ok - outcome.planThrottled - outcome.userLimited,
    a429Share: round((outcome.planThrottled + outcome.userLimited) / Math.max(1, outcome.total)),
  };
}

/** B's calls, one every B_INTERVAL_MS; every one must succeed. */
async function paced(gatewayUrl: string, tenant: NoisyTenant) {
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const wait = start + i * B_INTERVAL_MS - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const began = performance.now();
    const token = tenant.tokens[i % tenant.tokens.length] as string;
    const { status, body } = await notesGet(gatewayUrl, token, tenant.noteId);
    times.push(performance.now() - began);
    if (status !== 200) throw new Error(`the quiet tenant got ${status}: ${body.slice(0, 200)}`);
  }
  times.sort((x, y) => x - y);
  const at = (q: number) =>
    round(times[Math.min(times.length - 1, Math.floor(q * times.length))] as number);
  return { p50: at(0.5), p95: at(0.95), calls: times.length };
}

/** A's flood: a request every 1000/rate ms without waiting for answers, until stopped. */
function startFlood(gatewayUrl: string, tenant: NoisyTenant, rate: number) {
  const counts = { total: 0, ok: 0, planThrottled: 0, userLimited: 0 };
  const inFlight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    counts.total++;
    const request = notesGet(gatewayUrl, tenant.tokens[0] as string, tenant.noteId).then(
      ({ status, body }) => {
        if (status === 200) counts.ok++;
        else if (status === 429 && body.includes('Too Many Requests')) counts.planThrottled++;
        else if (status === 429) counts.userLimited++;
      },
    );
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
  }, 1000 / rate);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
      return counts;
    },
  };
}

async function notesGet(gatewayUrl: string, token: string, noteId: string) {
  const response = await fetch(`${gatewayUrl}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'notes_get', arguments: { id: noteId } },
    }),
  });
  return { status: response.status, body: await response.text() };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
