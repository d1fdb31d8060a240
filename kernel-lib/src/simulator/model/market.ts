/**
 * Simulated prices: a seeded random walk per instrument, rounded to its tick, with a spread and
 * top-of-book sizes. The same seed gives the same prices, step for step.
 */
import type { Bar } from "../protocol/messages";
import type { Instrument, Universe } from "./universe";

/** mulberry32: small, fast, good enough for simulated prices; deterministic per seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal variate from two uniforms (Box–Muller). */
function gaussian(random: () => number): number {
  const u = Math.max(random(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface Quote {
  bid: number;
  ask: number;
  last: number;
  bidSize: number;
  askSize: number;
  lastSize: number;
  volume: number;
  open: number;
  high: number;
  low: number;
  /** Yesterday's close: the base of daily P&L. */
  close: number;
  /** Epoch milliseconds of the last trade. */
  lastTime: number;
}

/** Steps per trading day the walk is scaled to: one step is ~1 s of a 6.5-hour session. */
const STEPS_PER_DAY = 23_400;

export function roundToTick(price: number, tick: number): number {
  const rounded = Math.round(price / tick) * tick;
  // Trim binary noise (0.1 + 0.2) so prices print as IB prints them.
  return Number(rounded.toFixed(Math.max(0, Math.ceil(-Math.log10(tick)) + 1)));
}

export class MarketModel {
  private readonly quotes = new Map<number, Quote>();
  private readonly random: () => number;

  constructor(
    private readonly universe: Universe,
    readonly seed: number,
    startPrices: ReadonlyMap<number, number> = new Map(),
    private readonly now: () => number = Date.now,
  ) {
    this.random = seededRandom(seed);
    for (const instrument of universe.instruments) {
      const conId = instrument.details.contract.conId;
      const price = startPrices.get(conId) ?? instrument.price;
      this.quotes.set(conId, this.quoteAround(instrument, price, price));
    }
  }

  private quoteAround(instrument: Instrument, last: number, close: number, previous?: Quote): Quote {
    const tick = instrument.details.minTick;
    const price = roundToTick(last, tick);
    const halfSpread = Math.max(tick, roundToTick(price * 0.0002, tick));
    const lot = instrument.lotSize;
    const size = () => lot * (1 + Math.floor(this.random() * 9));
    const lastSize = previous ? Math.max(1, Math.round(lot * this.random())) : 0;
    return {
      bid: roundToTick(price - halfSpread / 2, tick),
      ask: roundToTick(price - halfSpread / 2 + halfSpread, tick),
      last: price,
      bidSize: size(),
      askSize: size(),
      lastSize,
      volume: (previous?.volume ?? lot * 1000) + lastSize,
      open: previous?.open ?? close,
      high: Math.max(previous?.high ?? price, price),
      low: Math.min(previous?.low ?? price, price),
      close,
      lastTime: this.now(),
    };
  }

  quote(conId: number): Quote {
    const quote = this.quotes.get(conId);
    if (!quote) throw new Error(`no market for conId ${conId}`);
    return quote;
  }

  /** Moves every given instrument one step of its random walk. */
  step(conIds: Iterable<number>): void {
    for (const conId of conIds) {
      const instrument = this.universe.byContractId(conId);
      const previous = this.quotes.get(conId);
      if (!instrument || !previous) continue;
      const sigma = instrument.volatility / Math.sqrt(STEPS_PER_DAY);
      const next = previous.last * Math.exp(sigma * gaussian(this.random));
      this.quotes.set(conId, this.quoteAround(instrument, next, previous.close, previous));
    }
  }

  /** Sets the last price (a test or scenario control); bid and ask follow. */
  setPrice(conId: number, price: number): Quote {
    const instrument = this.universe.byContractId(conId);
    const previous = this.quotes.get(conId);
    if (!instrument || !previous) throw new Error(`no market for conId ${conId}`);
    const quote = this.quoteAround(instrument, price, previous.close, previous);
    this.quotes.set(conId, quote);
    return quote;
  }

  /**
   * Historical bars ending at `end` (epoch ms), deterministic for (seed, instrument, bar size) and
   * ending near today's reference price, so a chart and the live quote agree.
   */
  bars(instrument: Instrument, endMs: number, count: number, barSeconds: number, whatToShow: string): Bar[] {
    const conId = instrument.details.contract.conId;
    const random = seededRandom((this.seed ^ Math.imul(conId, 2654435761) ^ barSeconds) >>> 0);
    const tick = instrument.details.minTick;
    const sigma = instrument.volatility * Math.sqrt(Math.min(barSeconds, 86_400) / 86_400);
    const closes: number[] = new Array(count);
    let price = this.quote(conId).close;
    for (let i = count - 1; i >= 0; i--) {
      closes[i] = price;
      price = price / Math.exp(sigma * gaussian(random));
    }
    const bars: Bar[] = [];
    let open = price;
    const midpointOnly =
      whatToShow === "MIDPOINT" || whatToShow === "BID_ASK" || instrument.details.contract.secType === "CASH";
    for (let i = 0; i < count; i++) {
      const close = closes[i] as number;
      const wiggle = Math.abs(close - open) + close * sigma * 0.5 * random();
      const high = roundToTick(Math.max(open, close) + wiggle * random(), tick);
      const low = roundToTick(Math.min(open, close) - wiggle * random(), tick);
      const volume = midpointOnly
        ? 0
        : Math.round(instrument.lotSize * (50 + 200 * random()) * Math.sqrt(barSeconds / 60));
      const o = roundToTick(open, tick);
      const c = roundToTick(close, tick);
      bars.push({
        time: String(Math.floor((endMs - (count - i) * barSeconds * 1000) / 1000)),
        open: o,
        high: Math.max(high, o, c),
        low: Math.min(low, o, c),
        close: c,
        volume,
        wap: midpointOnly ? 0 : roundToTick((o + c + high + low) / 4, tick / 100),
        count: midpointOnly ? 0 : Math.max(1, Math.round(volume / instrument.lotSize)),
      });
      open = close;
    }
    return bars;
  }
}
