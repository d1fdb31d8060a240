/**
 * The read side of the library against the simulator: positions, portfolio, account values, P&L,
 * open orders of every client, fills with commissions, contracts, snapshot quotes, streaming
 * tickers with the market-data line limit, and historical bars.
 */
import { inspect } from "node:util";
import { type Contract, EventName, OrderAction, OrderType } from "@stoqey/ib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type IbkrError,
  InvalidArgumentError,
  MarketDataLinesError,
  NoSecurityDefinitionError,
} from "../../src/errors";
import type { IB } from "../../src/ib";
import { RecordingClient, stock } from "../support/ib-client";
import { Harness, rejection, scenario, sleep, thrown, until } from "./helpers";

const A = "DU1111111";
const B = "DU2222222";

const SCENARIO = {
  seed: 3,
  accounts: [
    {
      id: A,
      cash: 500_000,
      positions: [
        { contract: "AAPL", quantity: 100, avgCost: 150 },
        { contract: "MSFT", quantity: 20, avgCost: 300 },
      ],
    },
    { id: B, cash: 50_000, positions: [{ contract: "SPY", quantity: -5, avgCost: 590 }] },
  ],
  prices: { AAPL: 200, MSFT: 400, SPY: 600, KO: 60 },
  openOrders: [
    {
      account: A,
      clientId: 0,
      orderId: 0,
      contract: "KO",
      action: "BUY",
      quantity: 50,
      orderType: "LMT",
      lmtPrice: 55,
    },
    {
      account: B,
      clientId: 7,
      orderId: 31,
      contract: "MSFT",
      action: "SELL",
      quantity: 5,
      orderType: "LMT",
      lmtPrice: 450,
    },
    {
      account: A,
      clientId: 7,
      orderId: 32,
      contract: "AAPL",
      action: "BUY",
      quantity: 5,
      orderType: "LMT",
      lmtPrice: 120,
    },
  ],
};

const h = new Harness();
let ib: IB;
const raws: RecordingClient[] = [];
beforeEach(async () => {
  await h.start({ scenario: scenario(SCENARIO) });
  ib = await h.connect({ trading: true });
});
afterEach(async () => {
  for (const r of raws.splice(0)) r.disconnect();
  await h.stop();
});

describe("positions()", () => {
  it("every account's positions with average cost, sorted by account then symbol", async () => {
    const positions = await ib.positions();
    expect(positions.map((p) => [p.account, p.symbol, p.quantity, p.avgCost])).toEqual([
      [A, "AAPL", 100, 150],
      [A, "MSFT", 20, 300],
      [B, "SPY", -5, 590],
    ]);
    expect(positions[0]?.contract.conId).toBe(265598);
    expect(positions[0]?.secType).toBe("STK");
    expect(positions[0]?.currency).toBe("USD");
  });

  it("one account's", async () => {
    expect((await ib.positions({ account: B })).map((p) => p.symbol)).toEqual(["SPY"]);
  });

  it("an account the login does not manage is refused", async () => {
    const error = await rejection(ib.positions({ account: "DU3333333" }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe("account");
  });

  it("stay live: a fill moves the position without asking again", async () => {
    await ib.positions();
    await ib.buy("MSFT", 5, { account: A });
    await until(() => ib.broker.positions.get(`${A}/272093`)?.quantity === 25, 2000, "the position update");
    expect((await ib.positions({ account: A })).find((p) => p.symbol === "MSFT")?.quantity).toBe(25);
    expect(h.sent("reqPositions", 2)).toHaveLength(1);
  });
});

describe("portfolio()", () => {
  it("market price, value and P&L of one account's positions", async () => {
    const items = await ib.portfolio({ account: A });
    expect(items.map((p) => p.symbol)).toEqual(["AAPL", "MSFT"]);
    const aapl = items[0];
    expect(aapl?.quantity).toBe(100);
    expect(aapl?.marketPrice).toBeCloseTo(200, 6);
    expect(aapl?.marketValue).toBeCloseTo(100 * 200, 2);
    expect(aapl?.avgCost).toBe(150);
    expect(aapl?.unrealizedPnl).toBeCloseTo(100 * (200 - 150), 2);
    expect(aapl?.realizedPnl).toBe(0);
  });

  it("needs an account when the login has several", async () => {
    const error = await rejection(ib.portfolio());
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).todo).toContain(A);
  });

  it("stays subscribed: a fill updates it, and asking again sends nothing new", async () => {
    await ib.portfolio({ account: A });
    await ib.sell("AAPL", 40, { account: A });
    await until(
      () => [...ib.broker.portfolio.values()].some((p) => p.symbol === "AAPL" && p.quantity === 60),
      2000,
      "the portfolio update",
    );
    const items = await ib.portfolio({ account: A });
    expect(items.find((p) => p.symbol === "AAPL")?.quantity).toBe(60);
    expect(h.sent("reqAccountUpdates", 2)).toHaveLength(1);
  });

  it("switching accounts shows only the new account's items", async () => {
    await ib.portfolio({ account: A });
    const items = await ib.portfolio({ account: B });
    expect(items.map((p) => [p.account, p.symbol, p.quantity])).toEqual([[B, "SPY", -5]]);
  });
});

describe("account() and accountSummary()", () => {
  it("account values by tag, numbers where they are numbers", async () => {
    const values = await ib.account({ account: A });
    expect(typeof values.NetLiquidation).toBe("number");
    expect(values.NetLiquidation).toBeCloseTo(500_000 + 100 * 200 + 20 * 400, 0);
    expect(values.TotalCashValue).toBeCloseTo(500_000, 0);
    expect(values.AccountType).toBe("INDIVIDUAL");
  });

  it("the summary has rows for every account, and the subscription is cancelled after", async () => {
    const rows = await ib.accountSummary();
    expect(new Set(rows.map((r) => r.account))).toEqual(new Set([A, B]));
    const net = rows.find((r) => r.account === B && r.tag === "NetLiquidation");
    expect(Number(net?.value)).toBeCloseTo(50_000 - 5 * 600, 0);
    expect(net?.currency).toBe("USD");
    await until(() => h.sent("cancelAccountSummary", 2).length === 1, 2000, "the cancel");
    // IB allows two summaries at a time; the library's are cancelled, so a third call still works.
    await ib.accountSummary("NetLiquidation");
    const third = await ib.accountSummary("TotalCashValue");
    expect(third.map((r) => r.tag)).toEqual(["TotalCashValue", "TotalCashValue"]);
  });
});

describe("pnl()", () => {
  it("daily, unrealized and realized P&L of one account; live afterwards", async () => {
    const pnl = await ib.pnl({ account: A });
    expect(pnl.account).toBe(A);
    expect(pnl.unrealizedPnl).toBeCloseTo(100 * 50 + 20 * 100, 0);
    expect(pnl.realizedPnl).toBe(0);
    expect(typeof pnl.dailyPnl).toBe("number");

    h.sim.setPrice("AAPL", 210);
    h.sim.refreshPnl();
    await until(() => (ib.broker.pnl.get(A)?.unrealizedPnl ?? 0) > 7500, 2000, "the P&L update");
    const again = await ib.pnl({ account: A });
    expect(again.unrealizedPnl).toBeCloseTo(100 * 60 + 20 * 100, 0);
    expect(h.sent("reqPnL", 2)).toHaveLength(1);
  });
});

describe("positionPnl()", () => {
  it("daily, unrealized and realized P&L of each position; live, and restored after a restart", async () => {
    const rows = await ib.positionPnl();
    expect(rows.map((r) => [r.account, r.symbol])).toEqual([
      [A, "AAPL"],
      [A, "MSFT"],
      [B, "SPY"],
    ]);
    const aapl = rows.find((r) => r.symbol === "AAPL");
    expect(aapl?.quantity).toBe(100);
    expect(aapl?.unrealizedPnl).toBeCloseTo(100 * 50, 0);
    expect(aapl?.marketValue).toBeCloseTo(100 * 200, 0);
    expect(typeof aapl?.dailyPnl).toBe("number");
    expect(inspect(rows)).toMatch(/P&L by position[\s\S]*Daily P&L/);

    // A price move: AAPL's daily P&L moves by quantity × change, the others' not.
    const dailyBefore = aapl?.dailyPnl as number;
    h.sim.setPrice("AAPL", 210);
    h.sim.refreshPnl();
    const key = `${A}/${aapl?.contract.conId}`;
    await until(() => (ib.broker.positionPnl.get(key)?.unrealizedPnl ?? 0) > 5500, 2000, "the update");
    expect(ib.broker.positionPnl.get(key)?.dailyPnl).toBeCloseTo(dailyBefore + 100 * 10, 0);
    expect(h.sent("reqPnLSingle", 2)).toHaveLength(3);

    // Asked again: answered from the live subscriptions, nothing sent.
    await ib.positionPnl();
    await h.flush(ib);
    expect(h.sent("reqPnLSingle", 2)).toHaveLength(3);

    // The daily restart: the subscriptions come back on the new connection.
    await h.sim.restart({ downMs: 200 });
    await ib.ready(5000);
    await until(() => h.sent("reqPnLSingle", 2).length === 6, 3000, "the P&L subscriptions restored");
    h.sim.setPrice("AAPL", 220);
    h.sim.refreshPnl();
    await until(
      () => (ib.broker.positionPnl.get(key)?.unrealizedPnl ?? 0) > 6500,
      3000,
      "an update after it",
    );
  });

  it("max picks the largest positions by cost basis; a bad max is refused before anything is sent", async () => {
    const rows = await ib.positionPnl({ max: 2 });
    // Cost bases: AAPL 15,000, MSFT 6,000, SPY 2,950.
    expect(rows.map((r) => r.symbol)).toEqual(["AAPL", "MSFT"]);
    expect(h.sent("reqPnLSingle", 2)).toHaveLength(2);
    const one = await ib.positionPnl({ account: B });
    expect(one.map((r) => r.symbol)).toEqual(["SPY"]);
    for (const max of [0, -1, 1.5, Number.NaN]) {
      const error = await rejection(ib.positionPnl({ max }));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).message).toMatch(/max/);
    }
    await h.flush(ib);
    expect(h.sent("reqPnLSingle", 2)).toHaveLength(3);
  });

  it("a position that closes drops its P&L row and subscription", async () => {
    await ib.positionPnl({ account: B });
    const trade = await ib.buy("SPY", 5, { account: B });
    await trade.done();
    await until(() => ib.broker.positionPnl.size === 0, 2000, "the closed position's P&L row to go");
    await h.flush(ib);
    expect(h.sent("cancelPnLSingle", 2)).toHaveLength(1);
    expect(await ib.positionPnl({ account: B })).toEqual([]);
  });
});

describe("openOrders()", () => {
  it("lists working orders of every client — scenario, TWS-entered, another API client, this one — not done ones", async () => {
    const other = await RecordingClient.connect(h.sim, 9);
    raws.push(other);
    other.api.placeOrder(other.nextValidId, stock("MSFT") as unknown as Contract, {
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      totalQuantity: 3,
      lmtPrice: 100,
      account: A,
      transmit: true,
    });
    await other.waitFor(EventName.orderStatus, ([, status]) => status === "Submitted");
    const mine = await ib.buy("SPY", 1, { limit: 500, account: B });
    const filled = await ib.buy("AAPL", 1, { account: A }); // a market order: done at once
    await filled.done(2000);
    h.sim.cancelOrder(7, 32); // done: must not be listed

    const orders = await ib.openOrders();
    const summary = orders.map((o) => [o.clientId, o.orderId, o.symbol, o.status]);
    expect(summary).toEqual([
      [2, mine.orderId, "SPY", "Submitted"], // this connection's first
      [0, 0, "KO", "Submitted"],
      [7, 31, "MSFT", "Submitted"],
      [9, other.nextValidId, "MSFT", "Submitted"],
    ]);
    const manual = orders.find((o) => o.clientId === 0);
    expect(manual?.permId).toBeGreaterThan(0);
    expect(manual?.lmtPrice).toBe(55);
    expect(manual?.account).toBe(A);
  });

  it("is not ended early by the answer to an earlier reqOpenOrders (openOrderEnd has no request id)", async () => {
    for (let i = 0; i < 5; i++) {
      const fresh = await h.connect({ clientId: 10 + i });
      h.sim.setLatency(3); // replies to requests read apart arrive apart
      await new Promise((resolve) => setImmediate(resolve)); // the library's own reqOpenOrders goes first
      const orders = await fresh.openOrders();
      h.sim.setLatency(0);
      expect(orders.map((o) => [o.clientId, o.orderId]).sort()).toEqual([
        [0, 0],
        [7, 31],
        [7, 32],
      ]);
      fresh.close();
    }
  });

  it("called right after connect, still includes other clients' orders", async () => {
    const fresh = await h.connect({ clientId: 4 });
    const orders = await fresh.openOrders();
    expect(orders.map((o) => [o.clientId, o.orderId]).sort()).toEqual([
      [0, 0],
      [7, 31],
      [7, 32],
    ]);
  });
});

describe("fills() / executions()", () => {
  it("today's fills of this client with commissions, and not other clients'", async () => {
    const other = await RecordingClient.connect(h.sim, 9);
    raws.push(other);
    other.api.placeOrder(other.nextValidId, stock("KO") as unknown as Contract, {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10,
      account: A,
      transmit: true,
    });
    await other.waitFor(EventName.execDetails);

    const buy = await ib.buy("MSFT", 10, { account: A });
    await buy.done(2000);
    const sell = await ib.sell("AAPL", 30, { account: A });
    await sell.done(2000);

    const fills = await ib.fills();
    expect(fills.map((f) => [f.orderId, f.symbol, f.side, f.account])).toEqual([
      [buy.orderId, "MSFT", "BUY", A],
      [sell.orderId, "AAPL", "SELL", A],
    ]);
    const total = (symbol: string) =>
      fills.filter((f) => f.symbol === symbol).reduce((sum, f) => sum + f.quantity, 0);
    expect(total("MSFT")).toBe(10);
    expect(total("AAPL")).toBe(30);
    for (const f of fills) {
      expect(f.commission).toBeGreaterThan(0);
      expect(f.commissionCurrency).toBe("USD");
      expect(f.price).toBeGreaterThan(0);
      expect(f.time).toBeInstanceOf(Date);
      expect(Math.abs(f.time.getTime() - Date.now())).toBeLessThan(60_000);
    }
    // Selling AAPL bought at 150 near 200 realizes a profit.
    expect(fills.find((f) => f.symbol === "AAPL")?.realizedPnl).toBeGreaterThan(1000);
    // The trade objects carry the same fills.
    expect(buy.fills.map((f) => f.execId)).toEqual(
      fills.filter((f) => f.orderId === buy.orderId).map((f) => f.execId),
    );

    const executions = await ib.executions({ symbol: "AAPL" });
    expect(executions.map((f) => f.orderId)).toEqual([sell.orderId]);
  });
});

describe("contract() and search()", () => {
  it("a unique match", async () => {
    const aapl = await ib.contract("AAPL");
    expect(aapl).toMatchObject({
      conId: 265598,
      symbol: "AAPL",
      secType: "STK",
      primaryExchange: "NASDAQ",
      currency: "USD",
      longName: "Apple Inc",
      minTick: 0.01,
    });
    const eur = await ib.contract("eur.usd");
    expect(eur).toMatchObject({ secType: "CASH", symbol: "EUR", currency: "USD", localSymbol: "EUR.USD" });
    const byConId = await ib.contract({ conId: 265598 });
    expect(byConId.symbol).toBe("AAPL");
  });

  it("an ambiguous input lists the matches and says how to narrow it", async () => {
    const error = await rejection(ib.contract({ symbol: "AAPL" }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    const what = (error as InvalidArgumentError).what;
    expect(what).toContain("matches 2 contracts");
    expect(what).toContain("STK");
    expect(what).toContain("OPT");
    expect((error as InvalidArgumentError).todo).toContain("secType");
  });

  it("an unknown symbol → NoSecurityDefinitionError (200) naming it", async () => {
    const error = await rejection(ib.contract("ZZZZ"));
    expect(error).toBeInstanceOf(NoSecurityDefinitionError);
    expect((error as NoSecurityDefinitionError).code).toBe(200);
    expect((error as NoSecurityDefinitionError).what).toContain('"ZZZZ"');
  });

  it("an invalid symbol is refused before anything is sent", async () => {
    const before = h.sent("reqContractDetails").length;
    expect(await rejection(ib.contract("AA PL!"))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(ib.contract({ symbol: "AAPL", secType: "STOCK" as never }))).toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(await rejection(ib.contract({ conId: -3 }))).toBeInstanceOf(InvalidArgumentError);
    await h.flush(ib);
    expect(h.sent("reqContractDetails")).toHaveLength(before + 1); // the flush's own
  });

  it("search() returns every match of a symbol across security types", async () => {
    const found = await ib.search("aapl");
    expect(found.map((c) => c.secType).sort()).toEqual(["OPT", "STK"]);
    expect(await ib.search("ES")).toHaveLength(1);
    await expect(ib.search("ZZZZ")).rejects.toBeInstanceOf(NoSecurityDefinitionError);
  });
});

describe("quote() and quotes()", () => {
  it("a snapshot: bid < ask around the last price, sizes, day range", async () => {
    const q = await ib.quote("AAPL");
    expect(q.symbol).toBe("AAPL");
    expect(q.last).toBe(200);
    expect(q.bid).toBeLessThan(q.ask as number);
    expect(q.bid).toBeLessThanOrEqual(200);
    expect(q.ask).toBeGreaterThanOrEqual(200);
    expect(q.bidSize).toBeGreaterThan(0);
    expect(q.askSize).toBeGreaterThan(0);
    expect(q.high).toBeGreaterThanOrEqual(q.low as number);
    expect(q.close).toBeGreaterThan(0);
    // A snapshot holds no line.
    expect(h.sim.linesInUse()).toBe(0);
  });

  it("several quotes, in the order asked", async () => {
    const qs = await ib.quotes(["MSFT", "AAPL", "EUR.USD"]);
    expect(qs.map((q) => q.symbol)).toEqual(["MSFT", "AAPL", "EUR.USD"]);
    expect(qs[0]?.last).toBe(400);
    expect(qs[2]?.last).toBeGreaterThan(0.5);
  });

  it("an unknown symbol → NoSecurityDefinitionError; bad input → InvalidArgumentError, nothing sent", async () => {
    await expect(ib.quote("ZZZZ")).rejects.toBeInstanceOf(NoSecurityDefinitionError);
    const before = h.sent("reqMktData").length;
    expect(await rejection(ib.quote(""))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(ib.quotes("AAPL" as never))).toBeInstanceOf(InvalidArgumentError);
    const bad = await rejection(ib.quotes(["AAPL", 42 as never]));
    expect((bad as InvalidArgumentError).field).toBe("quotes[1]");
    await h.flush(ib);
    expect(h.sent("reqMktData")).toHaveLength(before);
  });
});

describe("ticker()", () => {
  it("streams updates in place; stop() cancels the subscription and frees the line", async () => {
    const ticker = ib.ticker("AAPL");
    expect(ib.activeTickers).toEqual([ticker]);
    await until(() => ticker.last === 200, 2000, "the first quote");
    expect(ticker.bid).toBeLessThan(ticker.ask as number);
    expect(ticker.mid).toBeCloseTo(((ticker.bid as number) + (ticker.ask as number)) / 2, 9);
    expect(h.sim.linesInUse()).toBe(1);

    const updates: number[] = [];
    ticker.on("update", (q) => updates.push(q.last as number));
    h.sim.setPrice("AAPL", 201.5);
    await until(() => ticker.last === 201.5, 2000, "a streamed update");
    expect(updates).toContain(201.5);

    expect(inspect(ticker)).toMatch(/^Ticker AAPL: bid [\d.]+ × \d+, ask [\d.]+ × \d+, last 201.5$/);
    ticker.stop();
    expect(ticker.isStopped).toBe(true);
    expect(inspect(ticker)).toMatch(/\(stopped\)$/);
    expect(ib.activeTickers).toEqual([]);
    await until(() => h.sim.linesInUse() === 0, 2000, "the line to be freed");
    expect(h.sent("cancelMktData", 2)).toHaveLength(1);
    h.sim.setPrice("AAPL", 205);
    await sleep(50);
    expect(ticker.last).toBe(201.5);
  });

  it("the line limit is enforced in the library before anything is sent", async () => {
    ib.marketDataLines = 2;
    const a = ib.ticker("AAPL");
    const b = ib.ticker("MSFT");
    const error = thrown(() => ib.ticker("KO"));
    expect(error).toBeInstanceOf(MarketDataLinesError);
    expect((error as MarketDataLinesError).code).toBe(101);
    expect((error as MarketDataLinesError).todo).toContain("ticker.stop()");
    await h.flush(ib);
    expect(h.sent("reqMktData", 2)).toHaveLength(2);
    // Stopping one frees a line.
    a.stop();
    const c = ib.ticker("KO");
    await until(() => c.last === 60, 2000, "the KO quote");
    b.stop();
    c.stop();
  });

  it("TWS's own refusal (101) stops the ticker and is reported as a warning", async () => {
    await h.stop();
    await h.start({ scenario: scenario({ ...SCENARIO, marketDataLines: 1 }) });
    ib = await h.connect();
    const warnings: IbkrError[] = [];
    ib.on("warning", (w) => warnings.push(w));
    const first = ib.ticker("AAPL");
    const second = ib.ticker("MSFT");
    await until(() => second.isStopped, 2000, "the refused ticker to stop");
    expect(warnings[0]).toBeInstanceOf(MarketDataLinesError);
    expect(first.isStopped).toBe(false);
    expect(ib.activeTickers).toEqual([first]);
  });

  it("an unknown symbol stops the ticker with a NoSecurityDefinitionError warning", async () => {
    const warnings: IbkrError[] = [];
    ib.on("warning", (w) => warnings.push(w));
    const t = ib.ticker("ZZZZ");
    await until(() => t.isStopped, 2000, "the ticker to stop");
    expect(warnings[0]?.code).toBe(200);
    expect(ib.activeTickers).toEqual([]);
  });
});

describe("bars()", () => {
  it("daily bars by default: Dates, consistent OHLC, oldest first", async () => {
    const bars = await ib.bars("AAPL");
    expect(bars.length).toBeGreaterThan(15);
    expect(bars.length).toBeLessThan(25); // one month of weekdays
    for (const [i, bar] of bars.entries()) {
      expect(bar.time).toBeInstanceOf(Date);
      expect(Number.isNaN(bar.time.getTime())).toBe(false);
      expect(bar.time.getUTCHours()).toBe(0);
      expect(bar.high).toBeGreaterThanOrEqual(Math.max(bar.open, bar.close));
      expect(bar.low).toBeLessThanOrEqual(Math.min(bar.open, bar.close));
      expect(bar.volume).toBeGreaterThanOrEqual(0);
      if (i > 0) expect(bar.time.getTime()).toBeGreaterThan((bars[i - 1] as typeof bar).time.getTime());
    }
    expect(bars.at(-1)?.time.getTime()).toBeLessThanOrEqual(Date.now());
    expect(bars.at(-1)?.time.getTime()).toBeGreaterThan(Date.now() - 5 * 86_400_000);
  });

  it("intraday bars: epoch times one bar size apart, in the asked window", async () => {
    const bars = await ib.bars("MSFT", { duration: "3600 S", barSize: "5 mins" });
    expect(bars).toHaveLength(12);
    for (let i = 1; i < bars.length; i++) {
      expect(
        (bars[i] as { time: Date }).time.getTime() - (bars[i - 1] as { time: Date }).time.getTime(),
      ).toBe(300_000);
    }
    expect(bars[0]?.time.getTime()).toBeGreaterThanOrEqual(Date.now() - 3_700_000);
  });

  it("forex defaults to MIDPOINT (TRADES would be refused)", async () => {
    const bars = await ib.bars("EUR.USD", { duration: "2 D", barSize: "1 hour", useRTH: false });
    expect(bars.length).toBeGreaterThan(0);
    expect(h.sent("reqHistoricalData", 2).at(-1)?.whatToShow).toBe("MIDPOINT");
  });

  it("an explicit end date is sent in UTC", async () => {
    const end = new Date(Date.UTC(2026, 0, 15, 21, 0, 0));
    const bars = await ib.bars("AAPL", { duration: "1 W", end });
    expect(h.sent("reqHistoricalData", 2).at(-1)?.endDateTime).toBe("20260115 21:00:00 UTC");
    expect(bars.at(-1)?.time.getTime()).toBeLessThanOrEqual(end.getTime());
  });

  it("an invalid duration → InvalidArgumentError, nothing sent", async () => {
    for (const duration of ["5 days", "5D", "-1 D", ""]) {
      const error = await rejection(ib.bars("AAPL", { duration }));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).field).toBe("duration");
    }
    expect(h.sent("reqHistoricalData")).toEqual([]);
  });

  it("an unknown symbol → NoSecurityDefinitionError; an invalid bar size is refused before sending", async () => {
    await expect(ib.bars("ZZZZ", { duration: "1 D" })).rejects.toBeInstanceOf(NoSecurityDefinitionError);
    const error = await rejection(ib.bars("AAPL", { duration: "1 D", barSize: "7 mins" }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as IbkrError).what).toContain("barSize");
    expect(h.sent("reqHistoricalData")).toHaveLength(1); // only the ZZZZ request reached TWS
  });
});
