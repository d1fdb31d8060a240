/**
 * Unmodified clients at every server version the simulator serves: @stoqey/ib's IBApi negotiated
 * down to 157, 163, 164, 166, 170 and 176 runs a tour of every request, and must decode every reply
 * exactly (no 505) while the simulator decodes every request it sends (no 320/321). IBApiNext, the
 * RxJS layer, works on top.
 */
import { EventName, IBApiNext, OrderAction, OrderType, SecType } from "@stoqey/ib";
import { firstValueFrom } from "rxjs";
import { afterEach, describe, expect, it } from "vitest";
import { TwsSimulator } from "../../src/simulator";
import { RecordingClient, stock } from "../support/ib-client";

let sim: TwsSimulator | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const eurusd = { symbol: "EUR", secType: SecType.CASH, exchange: "IDEALPRO", currency: "USD" };
const es = {
  symbol: "ES",
  secType: SecType.FUT,
  exchange: "CME",
  currency: "USD",
  lastTradeDateOrContractMonth: "202703",
};

describe.each([157, 163, 164, 166, 170, 176])("@stoqey/ib IBApi at server version %i", (version) => {
  it("runs every request and decodes every reply exactly", async () => {
    sim = await TwsSimulator.start({
      port: 0,
      tickIntervalMs: 0,
      maxServerVersion: version,
      pnlIntervalMs: 0,
    });
    sim.setPrice("AAPL", 200);
    const ib = await RecordingClient.connect(sim, 2);
    expect(ib.api.serverVersion).toBe(version);
    const api = ib.api;
    const id = ib.nextValidId;

    api.reqPositions();
    api.reqAccountSummary(1, "All", "All");
    api.reqAccountUpdates(true, "DU1234567");
    api.reqPnL(2, "DU1234567", "");
    api.reqPnLSingle(3, "DU1234567", "", 265598);
    api.reqMktData(4, stock("AAPL"), "", true, false);
    api.reqMktData(5, eurusd, "", false, false);
    for (const [reqId, contract] of [
      [6, stock("AAPL")],
      [7, es],
      [8, eurusd],
      [9, { symbol: "AAPL", secType: SecType.OPT }],
    ] as const) {
      api.reqContractDetails(reqId, contract);
    }
    api.reqHistoricalData(10, stock("AAPL"), "", "2 D", "1 hour" as never, "TRADES" as never, 1, 1, false);
    api.reqHistoricalData(11, eurusd, "", "1 W", "1 day" as never, "MIDPOINT" as never, 1, 1, false);
    api.placeOrder(id, stock("AAPL"), {
      action: OrderAction.BUY,
      totalQuantity: 3,
      orderType: OrderType.MKT,
      transmit: true,
    });
    api.placeOrder(id + 1, stock("AAPL"), {
      action: OrderAction.SELL,
      totalQuantity: 2,
      orderType: OrderType.LMT,
      lmtPrice: 250,
      transmit: true,
    });
    api.placeOrder(id + 2, stock("AAPL"), {
      action: OrderAction.BUY,
      totalQuantity: 1,
      orderType: OrderType.LMT,
      lmtPrice: 100,
      whatIf: true,
      transmit: true,
    });
    api.reqContractDetails(12, stock("NOPE"));

    await ib.waitFor(EventName.positionEnd);
    await ib.waitFor(EventName.accountSummaryEnd, (a) => a[0] === 1);
    await ib.waitFor(EventName.accountDownloadEnd);
    await ib.waitFor(EventName.pnl, (a) => a[0] === 2);
    await ib.waitFor(EventName.pnlSingle, (a) => a[0] === 3);
    await ib.waitFor(EventName.tickSnapshotEnd, (a) => a[0] === 4);
    await ib.waitFor(EventName.tickPrice, (a) => a[0] === 5);
    for (const reqId of [6, 7, 8, 9]) await ib.waitFor(EventName.contractDetailsEnd, (a) => a[0] === reqId);
    for (const reqId of [10, 11])
      await ib.waitFor(
        EventName.historicalData,
        (a) => a[0] === reqId && String(a[1]).startsWith("finished"),
      );
    const [, , execution] = await ib.waitFor(EventName.execDetails);
    expect(execution).toMatchObject({ orderId: id, shares: 3 });
    await ib.waitFor(EventName.commissionReport);
    await ib.waitFor(EventName.orderStatus, (a) => a[0] === id && a[1] === "Filled");
    const [, , working] = await ib.waitFor(EventName.openOrder, (a) => a[0] === id + 1);
    expect(working).toMatchObject({ totalQuantity: 2, lmtPrice: 250, orderType: "LMT" });
    const [, , whatIf] = await ib.waitFor(EventName.openOrder, (a) => a[0] === id + 2);
    expect(whatIf).toMatchObject({ whatIf: true });
    await ib.waitForError(200, 12);

    api.reqExecutions(13, {});
    await ib.waitFor(EventName.execDetailsEnd, (a) => a[0] === 13);
    api.reqOpenOrders();
    await ib.waitFor(EventName.openOrderEnd);
    api.cancelOrder(id + 1);
    await ib.waitFor(EventName.orderStatus, (a) => a[0] === id + 1 && a[1] === "Cancelled");
    api.reqCurrentTime();
    await ib.waitFor(EventName.currentTime);

    // Sizes are whole numbers below 163 (ibapi 9.81 reads them with int()).
    const sizes = ib.all(EventName.tickSize).map((a) => a[2] as number);
    expect(sizes.every((s) => (version < 163 ? Number.isInteger(s) : Number.isFinite(s)))).toBe(true);

    expect(ib.decodeErrors).toEqual([]);
    expect(ib.errors.filter((e) => e.code === 320 || e.code === 321)).toEqual([]);
    const kinds = new Set(sim.received(2).map((r) => r.type));
    expect(kinds.size).toBeGreaterThanOrEqual(14);
    ib.disconnect();
  });
});

describe("@stoqey/ib IBApiNext", () => {
  it("connects, reads positions, quotes, contracts, bars and orders, and places an order", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, pnlIntervalMs: 0 });
    sim.setPrice("AAPL", 200);
    const next = new IBApiNext({ host: "127.0.0.1", port: sim.port });
    const errors: unknown[] = [];
    next.error.subscribe((e) => errors.push(e));
    next.connect(4);
    try {
      expect(await next.getCurrentTime()).toBeGreaterThan(1_700_000_000);
      expect(await next.getManagedAccounts()).toEqual(["DU1234567"]);

      const snapshot = await next.getMarketDataSnapshot(stock("AAPL"), "", false);
      expect(snapshot.size).toBeGreaterThan(3);

      const details = await next.getContractDetails(stock("MSFT"));
      expect(details.map((d) => d.contract.conId)).toEqual([272093]);

      const bars = await next.getHistoricalData(
        stock("AAPL"),
        undefined,
        "1 D",
        "1 hour" as never,
        "TRADES" as never,
        0,
        2,
      );
      expect(bars).toHaveLength(24);

      const orderId = await next.placeNewOrder(stock("AAPL"), {
        action: OrderAction.BUY,
        totalQuantity: 7,
        orderType: OrderType.LMT,
        lmtPrice: 150,
        transmit: true,
      });
      const open = await next.getAllOpenOrders();
      expect(open.map((o) => [o.orderId, o.order.totalQuantity, o.orderState.status])).toEqual([
        [orderId, 7, "Submitted"],
      ]);

      sim.fillOrder(4, orderId, { price: 150 });
      const positions = await firstValueFrom(next.getPositions());
      expect(positions.all.get("DU1234567")?.map((p) => [p.contract.symbol, p.pos])).toEqual([["AAPL", 7]]);

      const pnl = await firstValueFrom(next.getPnL("DU1234567"));
      expect(pnl.unrealizedPnL).toBeCloseTo(7 * (sim.market.quote(265598).last - 150) - 1, 1);

      const summary = await firstValueFrom(next.getAccountSummary("All", "NetLiquidation"));
      expect(summary.all.get("DU1234567")?.get("NetLiquidation")?.get("USD")?.value).toMatch(/^\d+\.\d\d$/);
      expect(errors).toEqual([]);
    } finally {
      next.disconnect();
    }
  });
});
