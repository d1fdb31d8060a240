/**
 * Accounts end to end with @stoqey/ib's IBApi: positions, account summary, account and portfolio
 * updates, P&L, across several accounts, and the demo scenario.
 */
import { resolve } from "node:path";
import { EventName, OrderAction, OrderType } from "@stoqey/ib";
import { afterEach, describe, expect, it } from "vitest";
import { loadScenario, parseScenario, TwsSimulator, Universe } from "../../src/simulator";
import { RecordingClient, stock } from "../support/ib-client";

let sim: TwsSimulator;
let ib: RecordingClient;

const twoAccounts = parseScenario(
  {
    accounts: [
      {
        id: "DU1000001",
        cash: 50_000,
        positions: [
          { contract: "AAPL", quantity: 100, avgCost: 150 },
          { contract: "ES", quantity: 1, avgCost: 300_000 },
          { contract: "EUR.USD", quantity: 20_000, avgCost: 1.05 },
        ],
      },
      { id: "DU1000002", cash: 10_000, positions: [{ contract: "MSFT", quantity: -10, avgCost: 420 }] },
    ],
    prices: { AAPL: 200, ES: 6100, MSFT: 400, "EUR.USD": 1.1 },
  },
  new Universe(),
);

async function start(options: Parameters<typeof TwsSimulator.start>[0] = {}) {
  sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, scenario: twoAccounts, ...options });
  ib = await RecordingClient.connect(sim, 2);
}

afterEach(async () => {
  expect(ib.decodeErrors).toEqual([]);
  ib.disconnect();
  await sim.close();
});

describe("accounts", () => {
  it("lists every managed account at connect", async () => {
    await start();
    const [accounts] = await ib.waitFor(EventName.managedAccounts);
    expect(accounts).toBe("DU1000001,DU1000002");
  });

  it("lists positions of all accounts with average cost, then positionEnd", async () => {
    await start();
    ib.api.reqPositions();
    await ib.waitFor(EventName.positionEnd);
    const rows = ib
      .all(EventName.position)
      .map(([account, contract, pos, avgCost]) => [
        account,
        (contract as { localSymbol: string }).localSymbol,
        pos,
        avgCost,
      ]);
    expect(rows).toEqual([
      ["DU1000001", "AAPL", 100, 150],
      ["DU1000001", "ESH7", 1, 300_000],
      ["DU1000001", "EUR.USD", 20_000, 1.05],
      ["DU1000002", "MSFT", -10, 420],
    ]);
  });

  it("streams a position update when a fill moves it, and reports a closed position as 0", async () => {
    await start();
    ib.api.reqPositions();
    await ib.waitFor(EventName.positionEnd);
    ib.api.placeOrder(ib.nextValidId, stock("MSFT"), {
      action: OrderAction.BUY,
      totalQuantity: 10,
      orderType: OrderType.MKT,
      account: "DU1000002",
      transmit: true,
    });
    const [account, contract, pos] = await ib.waitForNext(EventName.position);
    expect([account, (contract as { symbol: string }).symbol, pos]).toEqual(["DU1000002", "MSFT", 0]);
  });

  it("sums an account summary per account with the requested tags only", async () => {
    await start();
    ib.api.reqAccountSummary(5, "All", "NetLiquidation,TotalCashValue,GrossPositionValue");
    await ib.waitFor(EventName.accountSummaryEnd, (a) => a[0] === 5);
    const values = new Map(
      ib
        .all(EventName.accountSummary)
        .map(([, account, tag, value, currency]) => [`${account}/${tag}`, [Number(value), currency]]),
    );
    expect(values.size).toBe(6);
    // AAPL 100 × 200 + EUR 20,000 × 1.1 (ES counts its P&L, not its notional) + cash 50,000
    const es = sim.market.quote(730283085).last;
    const aapl = sim.market.quote(265598).last;
    const eur = sim.market.quote(12087792).last;
    const expected = 50_000 + 100 * aapl + 20_000 * eur + (es * 50 - 300_000);
    expect(values.get("DU1000001/NetLiquidation")?.[0]).toBeCloseTo(expected, 0);
    expect(values.get("DU1000001/TotalCashValue")).toEqual([50_000, "USD"]);
    expect(values.get("DU1000002/GrossPositionValue")?.[0]).toBeCloseTo(
      10 * sim.market.quote(272093).last,
      0,
    );
  });

  it("sends account values, the portfolio with P&L, the update time and accountDownloadEnd", async () => {
    await start({ accountUpdateIntervalMs: 0 });
    ib.api.reqAccountUpdates(true, "DU1000001");
    await ib.waitFor(EventName.accountDownloadEnd, (a) => a[0] === "DU1000001");
    const portfolio = ib.all(EventName.updatePortfolio);
    expect(portfolio).toHaveLength(3);
    const [contract, position, marketPrice, marketValue, averageCost, unrealized, realized, account] =
      portfolio[0] as [{ symbol: string }, number, number, number, number, number, number, string];
    expect([contract.symbol, position, averageCost, realized, account]).toEqual([
      "AAPL",
      100,
      150,
      0,
      "DU1000001",
    ]);
    expect(marketValue).toBeCloseTo(100 * marketPrice, 2);
    expect(unrealized).toBeCloseTo(100 * (marketPrice - 150), 2);
    const keys = ib.all(EventName.updateAccountValue).map((a) => a[0]);
    expect(keys).toEqual(
      expect.arrayContaining(["NetLiquidation", "BuyingPower", "AvailableFunds", "Currency"]),
    );
    await ib.waitFor(EventName.updateAccountTime);
  });

  it("streams account P&L and single-position P&L", async () => {
    await start({ pnlIntervalMs: 0 });
    ib.api.reqPnL(8, "DU1000001", "");
    const [reqId, daily, unrealized, realized] = await ib.waitFor(EventName.pnl, (a) => a[0] === 8);
    expect(reqId).toBe(8);
    expect(realized).toBe(0);
    expect(typeof daily).toBe("number");
    expect(unrealized as number).toBeGreaterThan(0);
    ib.api.reqPnLSingle(9, "DU1000001", "", 265598);
    const [, pos, , upnl, , value] = await ib.waitFor(EventName.pnlSingle, (a) => a[0] === 9);
    expect(pos).toBe(100);
    expect(value).toBeCloseTo(100 * sim.market.quote(265598).last, 2);
    expect(upnl).toBeCloseTo(100 * (sim.market.quote(265598).last - 150), 2);
    sim.refreshPnl();
    await ib.waitForNext(EventName.pnl, (a) => a[0] === 8);
  });
});

describe("the demo account", () => {
  it("loads notebooks/demo-account.json: a paper account with a dozen positions and working orders", async () => {
    const scenario = loadScenario(resolve(__dirname, "../../../notebooks/demo-account.json"), new Universe());
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, scenario });
    ib = await RecordingClient.connect(sim, 2);
    ib.api.reqPositions();
    await ib.waitFor(EventName.positionEnd);
    const secTypes = new Set(ib.all(EventName.position).map((a) => (a[1] as { secType: string }).secType));
    expect(ib.all(EventName.position).length).toBeGreaterThanOrEqual(12);
    expect([...secTypes].sort()).toEqual(["CASH", "FUT", "OPT", "STK"]);
    expect(sim.accountIds).toEqual(["DU7654321"]);
    ib.api.reqOpenOrders();
    await ib.waitFor(EventName.openOrderEnd);
    expect(ib.all(EventName.openOrder).length).toBeGreaterThanOrEqual(2);
    expect(ib.nextValidId).toBeGreaterThan(991);
  });
});
