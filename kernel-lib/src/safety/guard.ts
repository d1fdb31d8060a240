/**
 * What can reach a live account (DESIGN "Safety"): read-only by default, live only with allowLive,
 * no trading when the managed accounts contradict the chosen broker, and a rate limit on live orders.
 * Every refusal says why and what to change.
 */
import type { Broker } from "../connection/options";
import { TradingGuardError } from "../errors";

/** Paper accounts start with DU (or DF for advisors); everything else is live money. */
export function isPaperAccount(account: string): boolean {
  return /^D[UF]/.test(account);
}

export interface GuardSettings {
  broker: Broker;
  trading: boolean;
  allowLive: boolean;
  liveOrdersPerMinute: number;
}

export class TradingGuard {
  private readonly liveOrderTimes: number[] = [];

  constructor(
    private readonly settings: GuardSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when orders would go to real money: the broker is live or any account is not paper. */
  isLive(accounts: readonly string[]): boolean {
    return this.settings.broker === "ibkr-live" || accounts.some((a) => !isPaperAccount(a));
  }

  /**
   * Throws unless this connection may change orders at all, cancels included: it is not read-only,
   * the managed accounts agree with the broker, and live money needs allowLive. `account` is the
   * account concerned, when known; otherwise any live account among `accounts` counts.
   */
  checkChange(accounts: readonly string[], account?: string): void {
    const { broker, trading, allowLive } = this.settings;
    if (!trading) {
      throw new TradingGuardError({
        what: "This connection is read-only: no order was sent.",
        todo: "Connect with connect({ trading: true }) to place orders (and allowLive: true as well for a live account).",
      });
    }
    const paperBroker = broker === "ibkr-paper";
    const livePresent = accounts.filter((a) => !isPaperAccount(a));
    if (paperBroker && livePresent.length > 0) {
      throw new TradingGuardError({
        what: `broker is "ibkr-paper" but TWS is logged into live account${livePresent.length > 1 ? "s" : ""} ${livePresent.join(", ")}: no order was sent.`,
        todo: 'TWS is probably logged into your live account on the paper port. Log TWS into the paper account, or, if you mean to trade live, connect with broker: "ibkr-live", allowLive: true.',
      });
    }
    if (!paperBroker && accounts.length > 0 && livePresent.length === 0) {
      throw new TradingGuardError({
        what: `broker is "ibkr-live" but every managed account (${accounts.join(", ")}) is a paper account: no order was sent.`,
        todo: 'Use broker: "ibkr-paper" for paper trading, or log TWS into the live account.',
      });
    }
    const live = account === undefined ? this.isLive(accounts) : this.isLive([account]);
    if (live && !allowLive) {
      const which = account ?? (livePresent.length > 0 ? livePresent : accounts).join(", ");
      throw new TradingGuardError({
        what: `Account ${which} is live money and allowLive is not set: no order was sent.`,
        todo: 'To trade live, connect with broker: "ibkr-live", trading: true, allowLive: true.',
      });
    }
  }

  /** Throws unless an order to `account` may be sent now; records it against the live rate limit. */
  checkOrder(account: string, accounts: readonly string[]): void {
    this.checkChange(accounts, account);
    if (!this.isLive([account])) return;
    const cutoff = this.now() - 60_000;
    while (this.liveOrderTimes.length > 0 && (this.liveOrderTimes[0] as number) <= cutoff)
      this.liveOrderTimes.shift();
    if (this.liveOrderTimes.length >= this.settings.liveOrdersPerMinute) {
      throw new TradingGuardError({
        what: `Live order rate limit reached: ${this.settings.liveOrdersPerMinute} orders in the last minute; no order was sent.`,
        todo: "Wait a minute, or raise liveOrdersPerMinute in connect() if this pace is intended.",
      });
    }
    this.liveOrderTimes.push(this.now());
  }
}
