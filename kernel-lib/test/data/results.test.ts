/**
 * Every tabular result as data, against the simulator: `toRecords()`, `toCSV()` and `toDataFrame()`
 * give the HTML table's columns (its headers, in its order), numbers as numbers, times as Dates and
 * decimal quantities as IB sent them; the result itself still serialises as its plain data.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type IB } from "../../src";
import { parseScenario, TwsSimulator, Universe } from "../../src/simulator";
import { cardLabels, expectData, htmlHeaders } from "./helpers";

const A = "DU1111111";
const B = "DU2222222";

const SCENARIO = {
  seed: 5,
  accounts: [
    {
      id: A,
      cash: 250_000,
      positions: [
        { contract: "AAPL", quantity: 100, avgCost: 150 },
        // Fractional shares and forex amounts: more digits than a table shows.
        { contract: "MSFT", quantity: 12.3456789, avgCost: 300.125 },
        { contract: "EUR.USD", quantity: 25_000.5, avgCost: 1.0811 },
      ],
    },
    { id: B, cash: 50_000, positions: [{ contract: "SPY", quantity: -5, avgCost: 590 }] },
  ],
  prices: { AAPL: 200, MSFT: 400, SPY: 600, KO: 60 },
  openOrders: [
    { account: A, clientId: 0, orderId: 0, contract: "KO", action: "BUY", quantity: 50, lmtPrice: 55 },
    {
      account: B,
      clientId: 7,
      orderId: 31,
      contract: "MSFT",
      action: "SELL",
      quantity: 5,
      orderType: "STP",
      auxPrice: 350,
      tif: "GTC",
    },
  ],
};

let sim: TwsSimulator;
let ib: IB;

beforeAll(async () => {
  sim = await TwsSimulator.start({
    port: 0,
    tickIntervalMs: 0,
    scenario: parseScenario(SCENARIO, new Universe()),
  });
  ib = await connect({ port: sim.port, trading: true });
});

afterAll(async () => {
  ib?.close();
  await sim?.close();
});

describe("as data, with the HTML table's columns", () => {
  it("positions: every account, decimal quantities unchanged", async () => {
    const positions = await ib.positions();
    const records = await expectData(positions);
    expect(Object.keys(records[0] ?? {})).toEqual([
      "Account",
      "Symbol",
      "Type",
      "Local symbol",
      "Quantity",
      "Avg cost",
      "Cost basis",
      "Currency",
    ]);
    const msft = records.find((r) => r.Symbol === "MSFT");
    expect(msft?.Quantity).toBe(12.3456789); // the table shows 12.3457
    expect(msft?.["Avg cost"]).toBe(300.125);
    expect(records.find((r) => r["Local symbol"] === "EUR.USD")?.Quantity).toBe(25_000.5);
    expect(records.find((r) => r.Symbol === "AAPL")?.["Local symbol"]).toBeNull(); // blank in the table
    expect(positions.toCSV()).toContain(`${A},MSFT,STK,,12.3456789,300.125,`);
  });

  it("one account's positions: as in the table, no Account column, no empty Local symbol", async () => {
    const positions = await ib.positions({ account: B });
    const records = await expectData(positions);
    expect(records).toEqual([
      {
        Symbol: "SPY",
        Type: "STK",
        Quantity: -5,
        "Avg cost": 590,
        "Cost basis": -2950,
        Currency: "USD",
      },
    ]);
  });

  it("portfolio: prices, values and P&L as numbers", async () => {
    const portfolio = await ib.portfolio({ account: A });
    const records = await expectData(portfolio);
    expect(htmlHeaders(portfolio.toHTML()).map((h) => h.name)).toContain("Unrealized %");
    const aapl = records.find((r) => r.Symbol === "AAPL");
    expect(aapl?.Price).toBe(200);
    expect(aapl?.["Market value"]).toBe(20_000);
    expect(aapl?.["Unrealized P&L"]).toBeCloseTo(5000, 6);
    expect(aapl?.["Unrealized %"]).toBeCloseTo(5000 / 15_000, 9); // a fraction, shown as 33.33%
  });

  it("account summary: one row per tag, one column per account, numbers where IB sent numbers", async () => {
    const summary = await ib.accountSummary();
    const tags = new Set(summary.map((v) => `${v.tag} ${v.currency}`));
    const records = await expectData(summary, { rows: tags.size });
    expect(Object.keys(records[0] ?? {})).toEqual(["Tag", A, B, "Currency"]);
    const net = records.find((r) => r.Tag === "NetLiquidation");
    expect(typeof net?.[A]).toBe("number");
    expect(typeof net?.[B]).toBe("number");
    expect(records[0]?.Tag).toBe("NetLiquidation"); // key tags first, as shown
  });

  it("P&L: one record, the account first, then the card's fields", async () => {
    const pnl = await ib.pnl({ account: A });
    const labels = cardLabels(pnl.toHTML());
    expect(labels).toEqual(["Daily", "Unrealized", "Realized"]);
    const records = await expectData(pnl, { headers: ["Account", ...labels] });
    expect(records[0]?.Account).toBe(A);
    for (const label of labels) {
      const value = records[0]?.[label];
      expect(value === null || typeof value === "number").toBe(true);
    }
    expect(records[0]?.Unrealized).toBe(pnl.unrealizedPnl);
  });

  it("open orders of every client, with the Limit and Stop columns the table shows", async () => {
    const orders = await ib.openOrders();
    const records = await expectData(orders);
    const names = Object.keys(records[0] ?? {});
    expect(names).toEqual(expect.arrayContaining(["Order", "Client", "Account", "Limit", "Stop", "Status"]));
    expect(names).not.toContain("Avg fill"); // nothing filled: the table leaves it out too
    const stop = records.find((r) => r.Order === 31);
    expect(stop).toMatchObject({ Client: 7, Account: B, Side: "SELL", Quantity: 5, Stop: 350, Limit: null });
  });

  it("fills: times as Dates, commissions as numbers", async () => {
    const buy = await ib.buy("KO", 10, { account: A });
    await buy.done(2000);
    const sell = await ib.sell("AAPL", 3, { account: A });
    await sell.done(2000);
    const fills = await ib.fills();
    const records = await expectData(fills, { dates: ["Time"] });
    expect(records.map((r) => [r.Symbol, r.Side, r.Quantity])).toEqual([
      ["KO", "BUY", 10],
      ["AAPL", "SELL", 3],
    ]);
    for (const r of records) {
      expect(Math.abs((r.Time as Date).getTime() - Date.now())).toBeLessThan(60_000);
      expect(r.Commission).toBeGreaterThan(0);
      expect(r.Value).toBeCloseTo((r.Quantity as number) * (r.Price as number), 9);
    }
    expect(fills.toCSV().split("\r\n")[1]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z,/);
  });

  it("quotes, and a single quote", async () => {
    const quotes = await ib.quotes(["AAPL", "MSFT", "EUR.USD"]);
    const records = await expectData(quotes, { dates: ["Time"] });
    expect(records.map((r) => r.Symbol)).toEqual(["AAPL", "MSFT", "EUR.USD"]);
    expect(records[0]?.Last).toBe(200);
    const one = await ib.quote("KO");
    const [record] = await expectData(one, { dates: ["Time"] });
    expect(record?.Symbol).toBe("KO");
    expect(record?.Last).toBe(60);
  });

  it("daily bars: a year, times as Dates (days in CSV), every row though the table shows 60", async () => {
    const bars = await ib.bars("AAPL", { duration: "1 Y" });
    expect(bars.length).toBeGreaterThan(200);
    const records = await expectData(bars, { days: ["Time"] });
    expect(Object.keys(records[0] ?? {})).toEqual([
      "Time",
      "Open",
      "High",
      "Low",
      "Close",
      "Volume",
      "WAP",
      "Trades",
    ]);
    expect(records.map((r) => (r.Time as Date).getTime())).toEqual(bars.map((b) => b.time.getTime()));
    expect(records.map((r) => r.Close)).toEqual(bars.map((b) => b.close));
    expect(bars.toCSV().split("\r\n")[1]).toMatch(/^\d{4}-\d{2}-\d{2},/);
  });

  it("intraday bars: times as instants in ISO 8601", async () => {
    const bars = await ib.bars("MSFT", { duration: "3600 S", barSize: "5 mins" });
    await expectData(bars, { dates: ["Time"] });
    const first = bars.toCSV().split("\r\n")[1] ?? "";
    expect(first.split(",")[0]).toBe(bars[0]?.time.toISOString());
  });

  it("forex bars leave out the columns IB sends as -1, as the table does", async () => {
    const bars = await ib.bars("EUR.USD", { duration: "2 D", barSize: "1 hour", useRTH: false });
    const records = await expectData(bars, { dates: ["Time"] });
    expect(Object.keys(records[0] ?? {})).toEqual(["Time", "Open", "High", "Low", "Close"]);
  });
});
