/**
 * Quotes: a snapshot (`Quote`) and a streaming `Ticker` that updates in place. Ticks arrive by
 * request id; the library counts the streaming lines it holds against IB's market-data limit.
 */
import { EventEmitter } from "node:events";
import { inspect } from "node:util";
import type { Contract } from "@stoqey/ib";
import { contractLabel } from "../contracts";

/** IB tick types the library reads (live and delayed). */
const TICK_FIELDS: Readonly<Record<number, keyof QuoteFields>> = {
  0: "bidSize",
  1: "bid",
  2: "ask",
  3: "askSize",
  4: "last",
  5: "lastSize",
  6: "high",
  7: "low",
  8: "volume",
  9: "close",
  14: "open",
  66: "bid",
  67: "ask",
  68: "last",
  69: "bidSize",
  70: "askSize",
  71: "lastSize",
  72: "high",
  73: "low",
  74: "volume",
  75: "close",
  76: "open",
};

export interface QuoteFields {
  bid: number | undefined;
  ask: number | undefined;
  last: number | undefined;
  bidSize: number | undefined;
  askSize: number | undefined;
  lastSize: number | undefined;
  volume: number | undefined;
  open: number | undefined;
  high: number | undefined;
  low: number | undefined;
  close: number | undefined;
}

export interface Quote extends QuoteFields {
  symbol: string;
  time: Date;
  contract: Contract;
}

export function emptyQuote(contract: Contract): Quote {
  return {
    symbol: contractLabel(contract),
    bid: undefined,
    ask: undefined,
    last: undefined,
    bidSize: undefined,
    askSize: undefined,
    lastSize: undefined,
    volume: undefined,
    open: undefined,
    high: undefined,
    low: undefined,
    close: undefined,
    time: new Date(),
    contract,
  };
}

/** Applies one tick to a quote; returns whether a field the quote shows changed. */
export function applyTick(quote: Quote, tickType: number, value: number | undefined): boolean {
  const field = TICK_FIELDS[tickType];
  if (field === undefined || value === undefined || value === -1) return false;
  if (quote[field] === value) return false;
  quote[field] = value;
  quote.time = new Date();
  return true;
}

export interface TickerEvents {
  update: [Quote];
  stopped: [];
}

/** A streaming quote. Its fields update in place; `stop()` frees the market-data line. */
export class Ticker extends EventEmitter<TickerEvents> {
  readonly quote: Quote;
  private stopped = false;

  constructor(
    contract: Contract,
    private readonly onStop: (ticker: Ticker) => void,
  ) {
    super();
    this.quote = emptyQuote(contract);
  }

  get symbol(): string {
    return this.quote.symbol;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  get bid(): number | undefined {
    return this.quote.bid;
  }
  get ask(): number | undefined {
    return this.quote.ask;
  }
  get last(): number | undefined {
    return this.quote.last;
  }

  /** The midpoint, when both sides are quoted. */
  get mid(): number | undefined {
    const { bid, ask } = this.quote;
    return bid !== undefined && ask !== undefined ? (bid + ask) / 2 : undefined;
  }

  /** @internal the library feeds ticks here. */
  tick(tickType: number, value: number | undefined): void {
    if (applyTick(this.quote, tickType, value)) this.emit("update", this.quote);
  }

  /** Cancels the subscription. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop(this);
    this.emit("stopped");
  }

  [inspect.custom](): string {
    const q = this.quote;
    const f = (n: number | undefined) => (n === undefined ? "–" : String(n));
    return `Ticker ${q.symbol}: bid ${f(q.bid)} × ${f(q.bidSize)}, ask ${f(q.ask)} × ${f(q.askSize)}, last ${f(q.last)}${this.stopped ? " (stopped)" : ""}`;
  }
}
