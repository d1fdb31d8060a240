/**
 * The instruments the simulator knows: a few stocks, ETFs, a future, an option and forex pairs.
 * conIds of the listed stocks and pairs are IB's real ones; the derivatives' are made up.
 */
import type { ContractDetails, ContractSpec } from "../protocol/messages";

export interface Instrument {
  /** The short name scenarios use: "AAPL", "ES", "AAPL 270115C250", "EUR.USD". */
  key: string;
  details: ContractDetails;
  /** Reference price when a scenario gives none. */
  price: number;
  /** Daily volatility of the random walk, as a fraction of price. */
  volatility: number;
  /** Typical top-of-book size, in the contract's units. */
  lotSize: number;
}

const US_STOCK_HOURS = "20261124:0930-20261124:1600;20261125:0930-20261125:1600";
const ORDER_TYPES_STK =
  "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,COND,DAY,GTC,GTD,IOC,LMT,MKT,OCA,STP,STPLMT,TRAIL,WHATIF";

interface StockSpec {
  conId: number;
  symbol: string;
  longName: string;
  primaryExchange: string;
  industry: string;
  category: string;
  stockType?: string;
  price: number;
  volatility?: number;
}

function stock(s: StockSpec): Instrument {
  return {
    key: s.symbol,
    price: s.price,
    volatility: s.volatility ?? 0.018,
    lotSize: 100,
    details: {
      contract: {
        conId: s.conId,
        symbol: s.symbol,
        secType: "STK",
        lastTradeDateOrContractMonth: "",
        strike: 0,
        right: "",
        multiplier: "",
        exchange: "SMART",
        primaryExchange: s.primaryExchange,
        currency: "USD",
        localSymbol: s.symbol,
        tradingClass: s.primaryExchange === "NASDAQ" ? "NMS" : s.symbol,
      },
      marketName: s.primaryExchange === "NASDAQ" ? "NMS" : s.symbol,
      minTick: 0.01,
      orderTypes: ORDER_TYPES_STK,
      validExchanges: `SMART,${s.primaryExchange},ARCA,BATS,IEX`,
      longName: s.longName,
      contractMonth: "",
      industry: s.industry,
      category: s.category,
      subcategory: "",
      timeZoneId: "US/Eastern",
      tradingHours: US_STOCK_HOURS,
      liquidHours: US_STOCK_HOURS,
      underConId: 0,
      underSymbol: "",
      underSecType: "",
      marketRuleIds: "26,26,26,26,26",
      realExpirationDate: "",
      stockType: s.stockType ?? "COMMON",
      minSize: 1,
      sizeIncrement: 1,
      suggestedSizeIncrement: 100,
    },
  };
}

function forex(conId: number, base: string, quote: string, price: number): Instrument {
  const pair = `${base}.${quote}`;
  return {
    key: pair,
    price,
    volatility: 0.004,
    lotSize: 1_000_000,
    details: {
      contract: {
        conId,
        symbol: base,
        secType: "CASH",
        lastTradeDateOrContractMonth: "",
        strike: 0,
        right: "",
        multiplier: "",
        exchange: "IDEALPRO",
        primaryExchange: "",
        currency: quote,
        localSymbol: pair,
        tradingClass: pair,
      },
      marketName: pair,
      minTick: 0.00005,
      orderTypes:
        "ACTIVETIM,AD,ALERT,ALLOC,AVGCOST,BASKET,CASHQTY,COND,DAY,GTC,IOC,LMT,MKT,OCA,STP,STPLMT,TRAIL,WHATIF",
      validExchanges: "IDEALPRO",
      longName: `${base} ${quote}`,
      contractMonth: "",
      industry: "",
      category: "",
      subcategory: "",
      timeZoneId: "US/Eastern",
      tradingHours: "20261123:1715-20261124:1700;20261124:1715-20261125:1700",
      liquidHours: "20261123:1715-20261124:1700;20261124:1715-20261125:1700",
      underConId: 0,
      underSymbol: "",
      underSecType: "",
      marketRuleIds: "239",
      realExpirationDate: "",
      stockType: "",
      minSize: 1,
      sizeIncrement: 1,
      suggestedSizeIncrement: 25_000,
    },
  };
}

const ES: Instrument = {
  key: "ES",
  price: 6050,
  volatility: 0.012,
  lotSize: 25,
  details: {
    contract: {
      conId: 730283085,
      symbol: "ES",
      secType: "FUT",
      lastTradeDateOrContractMonth: "20270319",
      strike: 0,
      right: "",
      multiplier: "50",
      exchange: "CME",
      primaryExchange: "",
      currency: "USD",
      localSymbol: "ESH7",
      tradingClass: "ES",
    },
    marketName: "ES",
    minTick: 0.25,
    orderTypes: "ACTIVETIM,AD,ALERT,ALLOC,COND,DAY,GTC,GTD,IOC,LMT,MKT,OCA,STP,STPLMT,TRAIL,WHATIF",
    validExchanges: "CME,QBALGO",
    longName: "E-mini S&P 500",
    contractMonth: "202703",
    industry: "",
    category: "",
    subcategory: "",
    timeZoneId: "US/Central",
    tradingHours: "20261123:1700-20261124:1600;20261124:1700-20261125:1600",
    liquidHours: "20261124:0830-20261124:1500;20261125:0830-20261125:1500",
    underConId: 11004968,
    underSymbol: "ES",
    underSecType: "IND",
    marketRuleIds: "67",
    realExpirationDate: "20270319",
    stockType: "",
    minSize: 1,
    sizeIncrement: 1,
    suggestedSizeIncrement: 1,
  },
};

const AAPL_CALL: Instrument = {
  key: "AAPL 270115C250",
  price: 12.4,
  volatility: 0.05,
  lotSize: 20,
  details: {
    contract: {
      conId: 731650412,
      symbol: "AAPL",
      secType: "OPT",
      lastTradeDateOrContractMonth: "20270115",
      strike: 250,
      right: "C",
      multiplier: "100",
      exchange: "SMART",
      primaryExchange: "",
      currency: "USD",
      localSymbol: "AAPL  270115C00250000",
      tradingClass: "AAPL",
    },
    marketName: "AAPL",
    minTick: 0.01,
    orderTypes: "ACTIVETIM,AD,ALERT,ALLOC,COND,DAY,GTC,IOC,LMT,MKT,OCA,STP,STPLMT,TRAIL,WHATIF",
    validExchanges: "SMART,AMEX,CBOE,ISE,PHLX,BOX,NASDAQOM",
    longName: "Apple Inc",
    contractMonth: "202701",
    industry: "Technology",
    category: "Computers",
    subcategory: "Computers",
    timeZoneId: "US/Eastern",
    tradingHours: US_STOCK_HOURS,
    liquidHours: US_STOCK_HOURS,
    underConId: 265598,
    underSymbol: "AAPL",
    underSecType: "STK",
    marketRuleIds: "32,109,109,109,109",
    realExpirationDate: "20270115",
    stockType: "",
    minSize: 1,
    sizeIncrement: 1,
    suggestedSizeIncrement: 1,
  },
};

/** The built-in instruments, in display order. */
export const BUILT_IN_INSTRUMENTS: readonly Instrument[] = [
  stock({
    conId: 265598,
    symbol: "AAPL",
    longName: "Apple Inc",
    primaryExchange: "NASDAQ",
    industry: "Technology",
    category: "Computers",
    price: 231.5,
  }),
  stock({
    conId: 272093,
    symbol: "MSFT",
    longName: "Microsoft Corp",
    primaryExchange: "NASDAQ",
    industry: "Technology",
    category: "Software",
    price: 418.2,
  }),
  stock({
    conId: 4815747,
    symbol: "NVDA",
    longName: "NVIDIA Corp",
    primaryExchange: "NASDAQ",
    industry: "Technology",
    category: "Semiconductors",
    price: 141.3,
    volatility: 0.03,
  }),
  stock({
    conId: 3691937,
    symbol: "AMZN",
    longName: "Amazon.com Inc",
    primaryExchange: "NASDAQ",
    industry: "Communications",
    category: "Internet",
    price: 198.4,
  }),
  stock({
    conId: 208813719,
    symbol: "GOOGL",
    longName: "Alphabet Inc-Cl A",
    primaryExchange: "NASDAQ",
    industry: "Communications",
    category: "Internet",
    price: 172.6,
  }),
  stock({
    conId: 9720,
    symbol: "JPM",
    longName: "JPMorgan Chase & Co",
    primaryExchange: "NYSE",
    industry: "Financial",
    category: "Banks",
    price: 246.1,
  }),
  stock({
    conId: 8894,
    symbol: "KO",
    longName: "Coca-Cola Co/The",
    primaryExchange: "NYSE",
    industry: "Consumer, Non-cyclical",
    category: "Beverages",
    price: 63.9,
    volatility: 0.01,
  }),
  stock({
    conId: 756733,
    symbol: "SPY",
    longName: "SPDR S&P 500 ETF Trust",
    primaryExchange: "ARCA",
    industry: "",
    category: "",
    stockType: "ETF",
    price: 598.7,
    volatility: 0.011,
  }),
  stock({
    conId: 320227571,
    symbol: "QQQ",
    longName: "Invesco QQQ Trust Series 1",
    primaryExchange: "NASDAQ",
    industry: "",
    category: "",
    stockType: "ETF",
    price: 509.2,
    volatility: 0.014,
  }),
  stock({
    conId: 15547841,
    symbol: "TLT",
    longName: "iShares 20+ Year Treasury Bond ETF",
    primaryExchange: "NASDAQ",
    industry: "",
    category: "",
    stockType: "ETF",
    price: 92.4,
    volatility: 0.009,
  }),
  stock({
    conId: 51529211,
    symbol: "GLD",
    longName: "SPDR Gold Shares",
    primaryExchange: "ARCA",
    industry: "",
    category: "",
    stockType: "ETF",
    price: 243.8,
    volatility: 0.01,
  }),
  ES,
  AAPL_CALL,
  forex(12087792, "EUR", "USD", 1.0542),
  forex(12087797, "GBP", "USD", 1.2611),
  forex(15016059, "USD", "JPY", 154.32),
];

/**
 * Generated stocks, for scenarios that need more positions than the built-in universe holds:
 * SYN00001, SYN00002 … with conIds from SYNTHETIC_CONID_BASE up. IB's conIds are well under 10⁹ and
 * the protocol's are 32-bit signed, so the range 2,000,000,001 … 2,000,099,999 cannot meet a real one.
 */
export const SYNTHETIC_CONID_BASE = 2_000_000_000;
/** The most synthetic stocks a universe may hold: five-digit symbols. */
export const MAX_SYNTHETIC_STOCKS = 99_999;

/** The symbol of the n-th synthetic stock (1-based): SYN00001 … SYN99999. */
export function syntheticSymbol(n: number): string {
  return `SYN${String(n).padStart(5, "0")}`;
}

/** `count` generated US stocks, the same for the same count: prices spread $5–$500, NASDAQ and NYSE. */
export function syntheticStocks(count: number): Instrument[] {
  if (!Number.isInteger(count) || count < 0 || count > MAX_SYNTHETIC_STOCKS) {
    throw new RangeError(`synthetic stocks: a whole number from 0 to ${MAX_SYNTHETIC_STOCKS}, got ${count}`);
  }
  return Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    // A fixed hash of n, uniform in [0, 1): log-uniform prices, as a stock list's are roughly.
    const u = (Math.imul(n, 2654435761) >>> 0) / 2 ** 32;
    return stock({
      conId: SYNTHETIC_CONID_BASE + n,
      symbol: syntheticSymbol(n),
      longName: `Synthetic Stock ${n}`,
      primaryExchange: n % 3 === 0 ? "NYSE" : "NASDAQ",
      industry: "",
      category: "",
      price: Math.round(500 * 100 ** u) / 100,
      volatility: 0.01 + 0.02 * u,
    });
  });
}

function isSynthetic(instrument: Instrument): boolean {
  return instrument.details.contract.conId > SYNTHETIC_CONID_BASE;
}

/** Looks instruments up the way TWS resolves a request's contract. */
export class Universe {
  private readonly byKey = new Map<string, Instrument>();
  private readonly byConId = new Map<number, Instrument>();

  constructor(readonly instruments: readonly Instrument[] = BUILT_IN_INSTRUMENTS) {
    for (const instrument of instruments) {
      this.byKey.set(instrument.key.toUpperCase(), instrument);
      this.byConId.set(instrument.details.contract.conId, instrument);
    }
  }

  get(key: string): Instrument | undefined {
    return this.byKey.get(key.toUpperCase());
  }

  byContractId(conId: number): Instrument | undefined {
    return this.byConId.get(conId);
  }

  keys(): string[] {
    return this.instruments.map((i) => i.key);
  }

  /** The known keys for an error message: synthetic stocks as one range, not thousands of names. */
  describeKeys(): string {
    const named = this.instruments.filter((i) => !isSynthetic(i)).map((i) => i.key);
    const synthetic = this.instruments.filter(isSynthetic);
    if (synthetic.length > 0) {
      named.push(`${synthetic[0]?.key}…${synthetic[synthetic.length - 1]?.key} (synthetic)`);
    }
    return named.join(", ");
  }

  /** This universe's named instruments plus `count` synthetic stocks (scenario field `syntheticStocks`). */
  withSyntheticStocks(count: number): Universe {
    const named = this.instruments.filter((i) => !isSynthetic(i));
    if (count === 0 && named.length === this.instruments.length) return this;
    return new Universe([...named, ...syntheticStocks(count)]);
  }

  /**
   * Every instrument that matches a request's contract. A conId decides alone; otherwise each
   * field the client filled in must match (exchange SMART matches any routable exchange).
   */
  match(spec: ContractSpec): Instrument[] {
    if (spec.conId !== undefined && spec.conId !== 0) {
      const found = this.byConId.get(spec.conId);
      return found ? [found] : [];
    }
    const want = (a: string, b: string) => a === "" || a.toUpperCase() === b.toUpperCase();
    return this.instruments.filter((instrument) => {
      const c = instrument.details.contract;
      const symbolMatches =
        spec.localSymbol !== ""
          ? spec.localSymbol.toUpperCase() === c.localSymbol.toUpperCase()
          : spec.symbol.toUpperCase() === c.symbol.toUpperCase();
      return (
        symbolMatches &&
        want(spec.secType, c.secType) &&
        want(spec.currency, c.currency) &&
        (spec.lastTradeDateOrContractMonth === "" ||
          c.lastTradeDateOrContractMonth.startsWith(spec.lastTradeDateOrContractMonth)) &&
        (spec.strike === undefined || spec.strike === 0 || spec.strike === c.strike) &&
        want(spec.right.slice(0, 1), c.right) &&
        want(spec.multiplier, c.multiplier) &&
        (spec.exchange === "" ||
          spec.exchange.toUpperCase() === "SMART" ||
          instrument.details.validExchanges.toUpperCase().split(",").includes(spec.exchange.toUpperCase())) &&
        want(spec.tradingClass, c.tradingClass)
      );
    });
  }

  /** The single instrument a trade or quote request means, or undefined when none or several match. */
  resolve(spec: ContractSpec): Instrument | undefined {
    const matches = this.match(spec);
    if (matches.length === 1) return matches[0];
    // A stock symbol with no secType means the stock, as TWS reads "AAPL" on SMART.
    const stocks = matches.filter((m) => m.details.contract.secType === "STK");
    return spec.secType === "" && stocks.length === 1 ? stocks[0] : undefined;
  }
}
