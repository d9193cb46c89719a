/**
 * KV allows 1,000 operations per invocation (a request, an alarm). Every KV write of one
 * invocation draws from one budget, taken before the operation is sent, so no interleaving of
 * flushes, index writes and garbage collection can pass the limit. A few stay in reserve.
 */
export const KV_OPS_PER_INVOCATION = 1000;
const RESERVED = 20;

/** Thrown by `take` once the budget is spent: the write waits for the next invocation. */
export class KvBudgetSpent extends Error {
  constructor() {
    super("KV operations for this invocation are spent");
  }
}

export class KvBudget {
  private used = 0;

  constructor(
    readonly limit = KV_OPS_PER_INVOCATION - RESERVED,
    private readonly parent?: KvBudget,
  ) {}

  /** A part of this budget: what it takes, it takes from this one too. */
  within(limit: number): KvBudget {
    return new KvBudget(limit, this);
  }

  get spent(): number {
    return this.used;
  }

  get left(): number {
    return Math.min(this.limit - this.used, this.parent?.left ?? Number.POSITIVE_INFINITY);
  }

  /** Takes one operation, or throws KvBudgetSpent. */
  take(): void {
    if (this.used >= this.limit) throw new KvBudgetSpent();
    this.parent?.take();
    this.used += 1;
  }
}
