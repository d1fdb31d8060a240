/**
 * Publishes snapshots of a connection's broker state whenever it changes: the first change at once,
 * then at most a few per second under bursts (the last state always goes out). Where the snapshot
 * goes is the caller's choice: the tslab hidden display channel in a notebook, anything in a test.
 */
import type { IB } from "../ib";
import { positionKey } from "../state/broker-state";
import type { OrderRecord } from "../state/types";
import {
  FEED_VERSION,
  type FeedAccount,
  type FeedOrder,
  type FeedPayload,
  type FeedPosition,
} from "./payload";

const iso = (d: Date | undefined) => (d ? d.toISOString() : null);

function numberOrNull(text: string | undefined): number | null {
  if (text === undefined || text === "") return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function feedOrder(o: OrderRecord): FeedOrder {
  return {
    orderId: o.orderId,
    clientId: o.clientId,
    permId: o.permId,
    account: o.account,
    symbol: o.symbol,
    secType: o.secType,
    action: o.action,
    quantity: o.quantity,
    orderType: o.orderType,
    lmtPrice: o.lmtPrice ?? null,
    auxPrice: o.auxPrice ?? null,
    tif: o.tif,
    status: o.status,
    filled: o.filled,
    remaining: o.remaining,
    avgFillPrice: o.avgFillPrice,
    updatedAt: o.updatedAt.toISOString(),
  };
}

/** The broker state of `ib` as the extension reads it. */
export function takeSnapshot(ib: IB, seq: number, now = new Date()): FeedPayload {
  const status = ib.state;
  const broker = ib.broker;
  const positions: FeedPosition[] = [...broker.positions.values()].map((p) => {
    const key = positionKey(p.account, p.contract.conId);
    const item = broker.portfolio.get(key);
    const pnl = broker.positionPnl.get(key);
    return {
      account: p.account,
      symbol: p.symbol,
      localSymbol: p.localSymbol,
      secType: p.secType,
      currency: p.currency,
      conId: p.contract.conId ?? 0,
      quantity: p.quantity,
      avgCost: p.avgCost,
      marketPrice: item?.marketPrice ?? null,
      marketValue: item?.marketValue ?? pnl?.marketValue ?? null,
      unrealizedPnl: item?.unrealizedPnl ?? pnl?.unrealizedPnl ?? null,
      realizedPnl: item?.realizedPnl ?? pnl?.realizedPnl ?? null,
      dailyPnl: pnl?.dailyPnl ?? null,
    };
  });
  const value = (account: string, tag: string) => {
    for (const v of broker.accountValues.values()) {
      if (v.account === account && v.tag === tag) return v;
    }
    return undefined;
  };
  const account: FeedAccount[] = status.accounts.map((id) => {
    const net = value(id, "NetLiquidation");
    return {
      account: id,
      currency: net?.currency || "USD",
      netLiquidation: numberOrNull(net?.value),
      totalCash: numberOrNull(value(id, "TotalCashValue")?.value),
      buyingPower: numberOrNull(value(id, "BuyingPower")?.value),
      unrealizedPnl: broker.pnl.get(id)?.unrealizedPnl ?? numberOrNull(value(id, "UnrealizedPnL")?.value),
      realizedPnl: broker.pnl.get(id)?.realizedPnl ?? numberOrNull(value(id, "RealizedPnL")?.value),
      dailyPnl: broker.pnl.get(id)?.dailyPnl ?? null,
    };
  });
  const trading = ib.options.trading && (!ib.isLive || ib.options.allowLive);
  return {
    v: FEED_VERSION,
    seq,
    ts: now.toISOString(),
    source: {
      clientId: status.clientId ?? null,
      host: status.host,
      port: status.port ?? null,
      broker: ib.options.broker,
      accounts: [...status.accounts],
      live: ib.isLive,
      kind: status.kind,
    },
    connection: {
      state: status.state,
      reason: status.reason,
      since: status.since.toISOString(),
      lastConnectedAt: iso(status.lastConnectedAt),
      serverVersion: status.serverVersion ?? null,
      trading,
      readOnlyApi: ib.readOnlyApi,
    },
    positions,
    orders: [...broker.orders.values()].map(feedOrder),
    account,
  };
}

/** Enough for panels a person reads; connect({ feedMaxPerSecond }) and monitor({ maxPerSecond }) change it. */
export const DEFAULT_FEED_MAX_PER_SECOND = 4;

export interface StateFeedOptions {
  /** Snapshots per second at most, under bursts. Default 4. */
  maxPerSecond?: number;
}

/** Watches `ib` and publishes throttled snapshots until stopped. */
export class StateFeed {
  private seq = 0;
  private lastSent = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly minIntervalMs: number;
  private readonly stops: Array<() => void> = [];
  private running = false;

  constructor(
    private readonly ib: IB,
    private readonly publish: (payload: FeedPayload) => void,
    options: StateFeedOptions = {},
  ) {
    this.minIntervalMs = 1000 / (options.maxPerSecond ?? DEFAULT_FEED_MAX_PER_SECOND);
  }

  start(): this {
    if (this.running) return this;
    this.running = true;
    const changed = () => this.changed();
    const watch = (
      emitter: { on(e: string, l: () => void): unknown; off(e: string, l: () => void): unknown },
      events: string[],
    ) => {
      for (const event of events) {
        emitter.on(event, changed);
        this.stops.push(() => emitter.off(event, changed));
      }
    };
    watch(this.ib as never, ["state", "position", "order", "fill", "readOnlyApi"]);
    watch(this.ib.broker as never, ["accountValue", "portfolio", "pnl", "positionPnl"]);
    this.send(); // the current state at once
    return this;
  }

  /** Stops watching; a snapshot still waiting for its interval goes out first (the last state counts most). */
  stop(): void {
    const pending = this.timer !== undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (pending) this.send();
    this.running = false;
    for (const stop of this.stops.splice(0)) stop();
  }

  /**
   * Something changed: send as soon as what arrived with it is applied if the last snapshot is old
   * enough, else once the interval has passed. Not synchronously: one read from TWS raises several
   * events (an execution's fill, then its order's new filled quantity), and a snapshot taken at the
   * first would miss the rest until the next interval.
   */
  private changed(): void {
    if (!this.running || this.timer) return;
    const wait = Math.max(0, this.lastSent + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.send();
    }, wait);
    this.timer.unref();
  }

  private send(): void {
    if (!this.running) return;
    this.lastSent = Date.now();
    this.seq += 1;
    this.publish(takeSnapshot(this.ib, this.seq));
  }
}
