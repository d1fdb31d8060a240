/**
 * IB's historical-data pacing, respected on the client side: instead of being refused (error 162),
 * a request waits until it is allowed. Rules: no identical request within 15 s, at most 5 requests
 * for one contract in 2 s, at most 60 requests in 10 minutes.
 */
import { SlidingWindow } from "../util/sliding-window";

/**
 * IB times requests when they arrive; the library times them when it hands them to @stoqey/ib, whose
 * own rate limiter (and the network) may hold one back by a few hundred ms. Each window is kept this
 * much longer, so a request held back does not make a later one arrive inside IB's window (162).
 */
export const PACING_MARGIN_MS = 500;
const IDENTICAL_WITHIN_MS = 15_000 + PACING_MARGIN_MS;
const SAME_CONTRACT = { count: 5, windowMs: 2_000 + PACING_MARGIN_MS };
const OVERALL = { count: 60, windowMs: 600_000 + PACING_MARGIN_MS };

export class HistoricalPacer {
  private readonly lastIdentical = new Map<string, number>();
  private readonly perContract = new Map<string, SlidingWindow>();
  private readonly overall = new SlidingWindow(OVERALL.windowMs);

  constructor(
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void> = abortableSleep,
  ) {}

  /** How long a request must wait now (0 when it may go). */
  delayFor(requestKey: string, contractKey: string): number {
    const now = this.now();
    const identical = this.lastIdentical.get(requestKey);
    const waits = [identical === undefined ? 0 : identical + IDENTICAL_WITHIN_MS - now];
    const contract = this.perContract.get(contractKey);
    if (contract && contract.count(now) >= SAME_CONTRACT.count)
      waits.push((contract.nextExpiry() ?? now) - now);
    if (this.overall.count(now) >= OVERALL.count) waits.push((this.overall.nextExpiry() ?? now) - now);
    return Math.max(0, ...waits);
  }

  /** Waits until the request is allowed, then records it; `signal` abandons the wait (the connection closed). */
  async wait(requestKey: string, contractKey: string, signal?: AbortSignal): Promise<void> {
    for (
      let delay = this.delayFor(requestKey, contractKey);
      delay > 0;
      delay = this.delayFor(requestKey, contractKey)
    ) {
      await this.sleep(delay + 1, signal);
    }
    signal?.throwIfAborted();
    const now = this.now();
    this.lastIdentical.set(requestKey, now);
    let contract = this.perContract.get(contractKey);
    if (!contract) {
      contract = new SlidingWindow(SAME_CONTRACT.windowMs);
      this.perContract.set(contractKey, contract);
    }
    contract.hit(now);
    this.overall.hit(now);
  }
}

/** setTimeout as a promise that an abort signal cancels (timer cleared, promise rejected with the reason). */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
