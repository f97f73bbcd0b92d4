/**
 * How far one warm environment may count on its own before it reconciles with the shared
 * counter: an eighth of what was left of the limit when it last reconciled, at least 1 and at
 * most {@link MAX_BLOCK}. Far from the limit an environment writes once per block; close to it,
 * once per call. This is the bound the README states: the calls admitted in a period exceed the
 * limit by at most one block per warm environment serving the same counter.
 */
export const MAX_BLOCK = 256;
const SHARE_OF_REMAINDER = 8;

export function blockSize(limit: number, known: number): number {
  return Math.max(1, Math.min(MAX_BLOCK, Math.floor((limit - known) / SHARE_OF_REMAINDER)));
}

/**
 * One environment's view of a shared counter (a per-user window, a tenant's month): what the
 * shared counter said when this environment last wrote to it or read it, the calls being
 * written now, and the calls it has admitted since (given-back calls subtract). Admission is
 * decided on `known + inFlight + pending`, which never needs a round trip; `pending` is written
 * with one atomic ADD once it reaches a block.
 */
export class ReconciledCount {
  known = 0;
  pending = 0;
  /** Calls taken out for a write that has not answered yet: still counted. */
  inFlight = 0;
  /** The first read of the shared counter, which concurrent first calls wait for. */
  ready: Promise<void> | undefined;
  reconciledAt: number;

  constructor(
    readonly period: string,
    now: number,
  ) {
    this.reconciledAt = now;
  }

  /** Whether one more call fits under the limit, as far as this environment knows. */
  fits(limit: number): boolean {
    return this.known + this.inFlight + this.pending < limit;
  }

  /** Whether the count should be written now: a block is full, or it waited `maxAgeMs`. */
  due(limit: number, now: number, maxAgeMs: number): boolean {
    return (
      this.pending >= blockSize(limit, this.known) ||
      (this.pending !== 0 && now - this.reconciledAt >= maxAgeMs)
    );
  }

  /** Takes the pending calls out for writing; `settle` records what the counter said. */
  take(now: number): number {
    const delta = this.pending;
    this.pending = 0;
    this.inFlight += delta;
    this.reconciledAt = now;
    return delta;
  }

  /** The write of `delta` answered with the counter's new total (which includes it). */
  settle(total: number, delta = 0): void {
    this.known = Math.max(this.known, total);
    this.inFlight -= delta;
  }

  /** A write that failed: its calls are pending again, to be written with the next block. */
  restore(delta: number): void {
    this.inFlight -= delta;
    this.pending += delta;
  }
}

/**
 * The counts of one environment, keyed by counter. Entries of a finished period are dropped
 * when a new one starts; past `maxEntries` the oldest is dropped (its unwritten calls are lost to
 * the shared counter, which the stated bound covers: one block).
 */
export class CountTable {
  private readonly counts = new Map<string, ReconciledCount>();

  constructor(private readonly maxEntries = 10_000) {}

  get(key: string, period: string, now: number): { count: ReconciledCount; fresh: boolean } {
    const existing = this.counts.get(key);
    if (existing && existing.period === period) return { count: existing, fresh: false };
    const count = new ReconciledCount(period, now);
    this.counts.delete(key);
    this.counts.set(key, count);
    if (this.counts.size > this.maxEntries) {
      const [oldest] = this.counts.keys();
      if (oldest !== undefined) this.counts.delete(oldest);
    }
    return { count, fresh: true };
  }

  /** Drops the entry, if it is still `count`. */
  forget(key: string, count: ReconciledCount): void {
    if (this.counts.get(key) === count) this.counts.delete(key);
  }
}
