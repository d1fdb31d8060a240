/**
 * Results that print well: the inspect hook outside tslab (text), nested (summary), inside a faked
 * tslab (rich bundle + summary line), and what each of the library's results shows.
 */
import { inspect, isDeepStrictEqual } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import type { ConnectionStatus } from "../../src/connection/connection";
import {
  asAccount,
  asAccountSummary,
  asBars,
  asContract,
  asContracts,
  asFills,
  asOpenOrders,
  asPnl,
  asPortfolio,
  asPositions,
  asQuote,
  asQuotes,
  asTable,
  asTrade,
  asWhatIf,
  inspectConnection,
  showConnection,
  withDisplay,
} from "../../src/display/results";
import type { Bar, ContractInfo } from "../../src/ib";
import { emptyQuote } from "../../src/market-data/ticker";
import { Trade } from "../../src/orders/trade";
import type { Fill, OrderRecord, PortfolioItem, Position } from "../../src/state/types";
import { type FakeTslab, installFakeTslab } from "./fake-tslab";

let kernel: FakeTslab | undefined;
afterEach(() => {
  kernel?.uninstall();
  kernel = undefined;
});

const position = (symbol: string, quantity: number, avgCost: number, account = "DU1"): Position => ({
  account,
  symbol,
  secType: "STK",
  localSymbol: symbol,
  currency: "USD",
  quantity,
  avgCost,
  contract: { symbol },
});

const positions = () => [
  position("AAPL", 300, 187.42),
  position("KO", -250, 66.12),
  position("<i>EVIL</i>", 1, 1),
];

const portfolioItem = (symbol: string, quantity: number, price: number, pnl: number): PortfolioItem => ({
  ...position(symbol, quantity, price - pnl / quantity),
  marketPrice: price,
  marketValue: quantity * price,
  unrealizedPnl: pnl,
  realizedPnl: 0,
});

const dailyBars = (n: number): Bar[] =>
  Array.from({ length: n }, (_, i) => ({
    time: new Date(Date.UTC(2026, 9, 1 + i)),
    open: 100 + i,
    high: 102 + i,
    low: 99 + i,
    close: 101 + i,
    volume: 1000 * (i + 1),
    wap: 100 + i,
    count: 10,
  }));

const status = (overrides: Partial<ConnectionStatus> = {}): ConnectionStatus => ({
  state: "connected",
  reason: "handshake done",
  since: new Date(2026, 10, 24, 9, 30),
  lastConnectedAt: new Date(2026, 10, 24, 9, 30),
  host: "127.0.0.1",
  port: 7497,
  clientId: 2,
  serverVersion: 176,
  accounts: ["DU7654321"],
  kind: "TWS",
  ...overrides,
});

describe("outside tslab", () => {
  it("prints a result as its plain-text table", () => {
    const rows = asPositions(positions());
    const printed = inspect(rows);
    expect(printed).toBe(rows.toText());
    expect(printed.split("\n")[0]).toBe("Positions · DU1 · USD");
    expect(printed).toContain("AAPL");
    expect(printed).toContain("<i>EVIL</i>"); // plain text is not HTML: shown as it is
  });

  it("prints a nested result as its summary, as Node prints [Array]", () => {
    expect(inspect({ mine: asPositions(positions()) })).toBe("{ mine: [3 positions in DU1] }");
  });

  it("leaves the data alone: same array, same keys, same JSON", () => {
    const plain = positions();
    const rows = asPositions(positions());
    expect(Array.isArray(rows)).toBe(true);
    expect(Object.keys(rows)).toEqual(Object.keys(plain));
    expect(JSON.stringify(rows)).toBe(JSON.stringify(plain));
    const mapped = rows.map((p) => p.symbol) as unknown as { toHTML?: unknown };
    expect(mapped.toHTML).toBeUndefined();
    const input = positions();
    expect(asPositions(input)).toBe(input);
  });

  it("keeps what a value is: an array stays a plain array, a class instance keeps its methods", () => {
    const plain = positions();
    const rows = asPositions(positions());
    // Array.prototype itself: V8's fast paths for map, slice and spread stay on.
    expect(Object.getPrototypeOf(rows)).toBe(Array.prototype);
    expect(isDeepStrictEqual(rows, plain)).toBe(true);
    const trade = new Trade(7, 2, { symbol: "KO" }, {
      action: "SELL",
      totalQuantity: 5,
      orderType: "MKT",
    } as never);
    const shown = asTrade(asTrade(trade));
    expect(shown).toBe(trade);
    expect(shown).toBeInstanceOf(Trade);
    expect(shown.orderId).toBe(7);
    // Shown with another view, a value answers to that view.
    const table = asTable(rows, [{ key: "symbol", header: "Symbol" }]);
    expect(table.toText()).not.toContain("Positions");
    expect(Object.keys(table)).toEqual(["0", "1", "2"]);
  });

  it("two results of one view each show their own rows (the view's methods are shared)", () => {
    const one = asPositions([position("AAPL", 1, 1)]);
    const two = asPositions([position("KO", 2, 2)]);
    expect(one.toText()).toContain("AAPL");
    expect(one.toText()).not.toContain("KO");
    expect(two.toRecords()).toHaveLength(1);
    expect(two.toCSV()).toContain("KO");
  });

  it("keeps each result's own charts: two results of one view do not share them", async () => {
    kernel = installFakeTslab();
    const apple = await asPortfolio([portfolioItem("AAPL", 300, 231.5, 13224)]);
    const cola = await asPortfolio([portfolioItem("KO", -250, 64.1, 505)]);
    inspect(apple);
    const chart = kernel.messages[1]?.data["application/vnd.vegalite.v5+json"];
    expect(JSON.stringify(chart)).toContain("AAPL");
    expect(JSON.stringify(chart)).not.toContain("KO");
    inspect(withDisplay(cola, { html: () => "", text: () => "", summary: () => "" }));
    expect(kernel.messages).toHaveLength(3); // shown with a view of no charts: no chart
  });

  it("gives HTML on request", () => {
    const html = asPositions(positions()).toHTML();
    expect(html).toContain("<table");
    expect(html).toContain("&lt;i&gt;EVIL&lt;/i&gt;");
    expect(html).not.toContain("<i>EVIL");
  });

  it("renders no chart outside a notebook (nobody would see it)", async () => {
    const started = Date.now();
    const rows = await asBars(dailyBars(30), { symbol: "AAPL", barSize: "1 day" });
    expect(Date.now() - started).toBeLessThan(200);
    expect(inspect(rows)).toContain("AAPL 1 day bars");
  });
});

describe("inside tslab", () => {
  it("sends the table as text/html + text/plain in one message and prints one summary line", () => {
    kernel = installFakeTslab();
    const rows = asPositions(positions());
    const printed = inspect(rows);
    expect(printed).toBe("3 positions in DU1");
    expect(kernel.messages).toHaveLength(1);
    const [message] = kernel.messages;
    expect(message?.msgType).toBe("display_data");
    expect(Object.keys(message?.data ?? {})).toEqual(["text/html", "text/plain"]);
    expect(message?.data["text/html"]).toContain("<table");
    expect(message?.data["text/plain"]).toBe(rows.toText());
  });

  it("sends nothing for a nested result", () => {
    kernel = installFakeTslab();
    expect(inspect([asPositions(positions())])).toBe("[ [3 positions in DU1] ]");
    expect(kernel.messages).toEqual([]);
  });

  it("falls back to text when the kernel cannot take the output yet", () => {
    kernel = installFakeTslab({ executed: false });
    const rows = asPositions(positions());
    expect(inspect(rows)).toBe(rows.toText());
  });

  it("falls back to text when rendering HTML fails", () => {
    kernel = installFakeTslab();
    const value = withDisplay([1], {
      html: () => {
        throw new Error("bug");
      },
      text: () => "one",
      summary: () => "1 row",
    });
    expect(inspect(value)).toBe("one");
    expect(kernel.messages).toEqual([]);
  });

  it("shows bars as a price chart (Vega-Lite + SVG) above the table", async () => {
    kernel = installFakeTslab();
    const rows = await asBars(dailyBars(30), { symbol: "AAPL", barSize: "1 day" });
    expect(inspect(rows)).toBe("30 bars of AAPL (1 day), 2026-10-01 → 2026-10-30");
    const [chart, table] = kernel.messages;
    expect(Object.keys(chart?.data ?? {})).toEqual([
      "application/vnd.vegalite.v5+json",
      "image/svg+xml",
      "text/plain",
    ]);
    expect(String(chart?.data["image/svg+xml"])).toMatch(/^<svg[\s\S]*<\/svg>$/);
    expect(table?.data["text/html"]).toContain("<table");
  });

  it("shows the portfolio table with totals, then the allocation and P&L chart", async () => {
    kernel = installFakeTslab();
    const rows = await asPortfolio([
      portfolioItem("AAPL", 300, 231.5, 13224),
      portfolioItem("KO", -250, 64.1, 505),
    ]);
    expect(inspect(rows)).toBe(
      "2 positions in DU1: market value 53,425.00 USD, unrealized P&L +13,729.00 USD",
    );
    const [table, chart] = kernel.messages;
    expect(table?.data["text/html"]).toContain("<tfoot>");
    expect(chart?.data["application/vnd.vegalite.v5+json"]).toMatchObject({ hconcat: expect.any(Array) });
  });

  it("keeps a live connection card current", () => {
    kernel = installFakeTslab();
    const card = showConnection(status(), false);
    card.update(status({ state: "reconnecting", reason: "socket closed" }), false);
    card.close();
    expect(kernel.messages.map((m) => m.msgType)).toEqual(["display_data", "update_display_data"]);
    expect(kernel.messages[1]?.data["text/plain"]).toContain("[OFFLINE]");
  });
});

describe("each result", () => {
  it("asTable: any rows, any columns", () => {
    const rows = asTable([{ a: 1 }, { a: 2 }], [{ key: "a", header: "A", kind: "integer", total: true }], {
      title: "Numbers",
    });
    expect(rows.toText()).toBe(["Numbers", "A", "─", "1", "2", "─", "3"].join("\n"));
  });

  it("positions: account in the caption when there is one, a column when several", () => {
    expect(asPositions(positions()).toText()).not.toContain("Account");
    const two = asPositions([position("AAPL", 1, 1, "DU1"), position("AAPL", 2, 1, "DU2")]);
    expect(two.toText()).toContain("Account");
    expect(inspect({ two })).toContain("2 positions in DU1, DU2");
  });

  it("positions: no totals across currencies", () => {
    const eur = { ...position("SAP", 10, 200), currency: "EUR" };
    const text = asPositions([position("AAPL", 1, 1), eur]).toText();
    expect(text).not.toContain("Total");
    expect(text).toContain("no totals across currencies");
  });

  it("account summary: one column per account", () => {
    const text = asAccountSummary([
      { account: "DU1", tag: "AccountType", value: "INDIVIDUAL", currency: "" },
      { account: "DU1", tag: "NetLiquidation", value: "1000.5", currency: "USD" },
      { account: "DU2", tag: "NetLiquidation", value: "2000", currency: "USD" },
    ]).toText();
    const lines = text.split("\n");
    expect(lines[1]).toMatch(/^Tag\s+DU1\s+DU2\s+Currency$/);
    expect(lines[3]).toMatch(/^NetLiquidation\s+1,000.50\s+2,000.00\s+USD$/); // key tags first
    expect(lines[4]).toMatch(/^AccountType\s+INDIVIDUAL$/);
  });

  it("account(): key tags first, numbers as amounts", () => {
    const text = asAccount({ AccountType: "INDIVIDUAL", NetLiquidation: 184250.35 }, "DU1").toText();
    expect(text.split("\n")).toEqual([
      "Account DU1",
      "  NetLiquidation  184,250.35",
      "  AccountType     INDIVIDUAL",
    ]);
  });

  it("P&L: signed, with a dash where IB sent nothing", () => {
    const pnl = asPnl({ account: "DU1", dailyPnl: -12.5, unrealizedPnl: 100, realizedPnl: Number.MAX_VALUE });
    expect(inspect({ pnl })).toBe("{ pnl: [P&L DU1: daily -12.50, unrealized +100.00, realized –] }");
    expect(pnl.toHTML()).toContain('class="num neg"');
  });

  it("open orders: Limit and Stop only when some order has one", () => {
    const order = (orderId: number, orderType: string, lmtPrice?: number): OrderRecord => ({
      orderId,
      clientId: 2,
      permId: 0,
      account: "DU1",
      symbol: "MSFT",
      secType: "STK",
      action: "BUY",
      quantity: 20,
      orderType,
      lmtPrice,
      auxPrice: undefined,
      tif: "GTC",
      status: "Submitted",
      filled: 0,
      remaining: 20,
      avgFillPrice: 0,
      lastFillPrice: 0,
      whyHeld: "",
      updatedAt: new Date(),
      contract: {},
    });
    const text = asOpenOrders([order(990, "LMT", 395), order(991, "MKT")]).toText();
    expect(text).toContain("Limit");
    expect(text).not.toContain("Stop");
    expect(text).toContain("990"); // ids are not grouped
  });

  it("fills: commission totals", () => {
    const fill = (execId: string, commission: number): Fill => ({
      execId,
      orderId: 1,
      permId: 1,
      clientId: 2,
      account: "DU1",
      symbol: "AAPL",
      secType: "STK",
      side: "BOT" as never,
      quantity: 5,
      price: 190,
      cumQuantity: 5,
      time: new Date(2026, 10, 24, 10, 0, 0),
      exchange: "SMART",
      commission,
      commissionCurrency: "USD",
      realizedPnl: undefined,
      contract: {},
    });
    const fills = asFills([fill("a", 1), fill("b", 1.25)]);
    expect(inspect({ fills })).toBe("{ fills: [2 fills, commission 2.25 USD] }");
    expect(fills.toText()).toMatch(/Total\s+2\.25/);
  });

  it("quotes: change against the previous close", () => {
    const q = { ...emptyQuote({ symbol: "AAPL" }), bid: 100, ask: 100.1, last: 101, close: 100 };
    expect(asQuotes([q]).toText()).toContain("+1.00%");
    expect(inspect({ q: asQuote(q) })).toBe("{ q: [AAPL: bid 100.00, ask 100.10, last 101.00] }");
  });

  it("contracts: a table for a search, a card for one", () => {
    const info = {
      conId: 265598,
      symbol: "AAPL",
      secType: "STK",
      localSymbol: "AAPL",
      exchange: "SMART",
      primaryExchange: "NASDAQ",
      currency: "USD",
      longName: "APPLE INC",
      minTick: 0.01,
      multiplier: "",
      contract: {},
      details: {},
    } as ContractInfo;
    expect(asContracts([info]).toText()).toContain("265598");
    expect(asContract(info).toText().split("\n")[0]).toBe("AAPL · STK · APPLE INC");
  });

  it("a trade: status, fills and history as printed now", () => {
    const trade = asTrade(
      new Trade(1001, 2, { symbol: "AAPL" }, {
        action: "BUY",
        totalQuantity: 10,
        orderType: "LMT",
        lmtPrice: 190,
        tif: "DAY",
        account: "DU1",
      } as never),
    );
    expect(inspect({ trade })).toBe("{ trade: [Trade #1001 BUY 10 AAPL LMT 190.00 DAY: PendingSubmit] }");
    const text = trade.toText();
    expect(text.split("\n")[0]).toBe("Trade #1001: BUY 10 AAPL LMT 190.00 DAY");
    expect(text).toContain("History");
    expect(trade.toHTML()).toContain("ibkr-section");
  });

  it("what-if: margin and commission", () => {
    const text = asWhatIf(
      {
        initMarginChange: 4630.5,
        maintMarginChange: undefined,
        equityWithLoanChange: -1,
        commission: 1,
        commissionCurrency: "USD",
        warningText: "<b>careful</b>",
      },
      "BUY 10 AAPL",
    ).toHTML();
    expect(text).toContain("What if: BUY 10 AAPL");
    expect(text).toContain("+4,630.50");
    expect(text).toContain("&lt;b&gt;careful&lt;/b&gt;");
  });
});

describe("the connection card", () => {
  const card = (s: ConnectionStatus, isLive: boolean) => inspectConnection(s, isLive, 2, undefined);

  it("says PAPER, LIVE or OFFLINE", () => {
    expect(card(status(), false).split("\n")[0]).toBe("[PAPER] Interactive Brokers · connected");
    expect(card(status({ accounts: ["U1234567"] }), true)).toContain("[LIVE]");
    expect(card(status({ accounts: ["U1234567"] }), true)).toContain("orders go to real money");
    expect(card(status({ state: "disconnected", reason: "closed by user" }), false).split("\n")[0]).toBe(
      "[OFFLINE] Interactive Brokers · disconnected: closed by user",
    );
  });

  it("lists client id, host:port, program, accounts and server version", () => {
    const text = card(status(), false);
    for (const part of ["Client id", "2", "127.0.0.1:7497", "TWS", "DU7654321", "176"])
      expect(text).toContain(part);
  });

  it("is one line when nested, and a badge in HTML", () => {
    expect(inspectConnection(status(), false, 1, { depth: 2, stylize: (s: string) => s } as never)).toBe(
      "[IB PAPER connected: client 2 @ 127.0.0.1:7497 (TWS), accounts DU7654321]",
    );
  });
});
