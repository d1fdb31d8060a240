/**
 * IB's request limits, enforced per client as TWS enforces them: a message rate (error 100) and
 * historical-data pacing (error 162). Market-data lines are counted by the simulator across clients.
 */
import { SlidingWindow } from "../../util/sliding-window";

export interface PacingRules {
  /** At most this many historical requests in ten minutes (IB: 60). */
  perTenMinutes: number;
  /** No identical request within this many ms (IB: 15 s). */
  identicalWithinMs: number;
  /** At most this many requests for one contract in two seconds (IB: 5; the sixth is a violation). */
  sameContractPerTwoSeconds: number;
}

export const IB_HISTORICAL_PACING: PacingRules = {
  perTenMinutes: 60,
  identicalWithinMs: 15_000,
  sameContractPerTwoSeconds: 5,
};

/** IB's historical-data pacing rules; `check` returns the violation, or undefined when allowed. */
export class HistoricalPacing {
  private readonly all = new SlidingWindow(600_000);
  private readonly identical = new Map<string, number>();
  private readonly perContract = new Map<string, SlidingWindow>();

  constructor(private readonly rules: PacingRules = IB_HISTORICAL_PACING) {}

  check(now: number, requestKey: string, contractKey: string): string | undefined {
    const last = this.identical.get(requestKey);
    if (last !== undefined && now - last < this.rules.identicalWithinMs) {
      return "an identical request was made less than 15 seconds ago";
    }
    const window = this.perContract.get(contractKey) ?? new SlidingWindow(2_000);
    this.perContract.set(contractKey, window);
    if (window.count(now) >= this.rules.sameContractPerTwoSeconds) {
      return `more than ${this.rules.sameContractPerTwoSeconds} requests for the same contract within 2 seconds`;
    }
    if (this.all.count(now) >= this.rules.perTenMinutes) {
      return `more than ${this.rules.perTenMinutes} requests within 10 minutes`;
    }
    this.identical.set(requestKey, now);
    window.hit(now);
    this.all.hit(now);
    return undefined;
  }
}
