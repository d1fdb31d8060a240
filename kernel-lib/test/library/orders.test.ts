/**
 * Orders on a paper connection with trading enabled: market, limit, stop and stop-limit buys and
 * sells, live trade status, cancels, global cancel, whatIf previews, IB's rejections, and input the
 * library refuses before anything is sent.
 */
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidArgumentError, NoSecurityDefinitionError, OrderRejectedError } from "../../src/errors";
import type { IB } from "../../src/ib";
import type { OrderSpec } from "../../src/orders/order-spec";
import type { Trade } from "../../src/orders/trade";
import { Harness, rejection, scenario, sleep, until } from "./helpers";

const ACCOUNT = "DU1234567";
const h = new Harness();
let ib: IB;

beforeEach(async () => {
  await h.start({
    scenario: scenario({
      accounts: [
        { id: ACCOUNT, cash: 1_000_000, positions: [{ contract: "MSFT", quantity: 50, avgCost: 300 }] },
      ],
      prices: { AAPL: 200, MSFT: 400, ES: 6000 },
      openOrders: [
        {
          clientId: 7,
          orderId: 40,
          contract: "KO",
          action: "BUY",
          quantity: 10,
          orderType: "LMT",
          lmtPrice: 50,
        },
      ],
    }),
  });
  ib = await h.connect({ trading: true });
});
afterEach(() => h.stop());

function statuses(trade: Trade): string[] {
  const seen: string[] = [];
  trade.on("status", (t) => seen.push(t.status));
  return seen;
}

describe("buy and sell", () => {
  it("a market buy fills at the ask; the trade reports status, fills and commission", async () => {
    const quote = await ib.quote("AAPL");
    const trade = await ib.buy("AAPL", 10);
    expect(trade.orderId).toBeGreaterThan(0);
    expect(trade.clientId).toBe(2);
    expect(trade.order).toMatchObject({ action: "BUY", totalQuantity: 10, orderType: "MKT", tif: "DAY" });
    await expect(trade.done(2000)).resolves.toBe(trade);
    expect(trade.status).toBe("Filled");
    expect(trade.filled).toBe(10);
    expect(trade.remaining).toBe(0);
    expect(trade.avgFillPrice).toBe(quote.ask);
    expect(trade.permId).toBeGreaterThan(0);
    await until(() => trade.fills.every((f) => f.commission !== undefined), 2000, "the commission");
    expect(trade.fills.reduce((s, f) => s + f.quantity, 0)).toBe(10);
    expect(trade.fills[0]?.commission).toBeGreaterThan(0);
    const sent = h.sent("placeOrder", 2);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.order).toMatchObject({
      action: "BUY",
      totalQuantity: 10,
      orderType: "MKT",
      account: ACCOUNT,
    });
    expect(inspect(trade)).toMatch(/^Trade #\d+: BUY 10 AAPL MKT DAY\n\s+Status\s+Filled\n\s+Filled\s+10\n/);
  });

  it("a market sell fills at the bid and reduces the position", async () => {
    await ib.positions(); // follows the positions from here on
    const trade = await ib.sell("MSFT", 20);
    await trade.done(2000);
    expect(trade.status).toBe("Filled");
    expect(trade.fills.every((f) => f.side === "SELL")).toBe(true);
    await until(() => ib.broker.positions.get(`${ACCOUNT}/272093`)?.quantity === 30, 2000, "the position");
  });

  it("a limit buy works until the price comes down to it; status updates live", async () => {
    const trade = await ib.buy("AAPL", 5, { limit: 190 });
    const seen = statuses(trade);
    expect(trade.status).toBe("Submitted");
    expect(trade.order).toMatchObject({ orderType: "LMT", lmtPrice: 190 });
    await sleep(50);
    expect(trade.isDone).toBe(false);
    h.sim.setPrice("AAPL", 189);
    await trade.done(2000);
    expect(seen.at(-1)).toBe("Filled");
    expect(trade.avgFillPrice).toBeLessThanOrEqual(190);
  });

  it("a part-fill shows as it happens", async () => {
    const trade = await ib.buy("AAPL", 100, { limit: 150 });
    h.sim.fillOrder(2, trade.orderId, { quantity: 30, price: 150 });
    await until(() => trade.filled === 30, 2000, "the part-fill");
    expect(trade.status).toBe("Submitted");
    expect(trade.remaining).toBe(70);
    expect(trade.fills).toHaveLength(1);
    h.sim.fillOrder(2, trade.orderId, { price: 149 });
    await trade.done(2000);
    expect(trade.filled).toBe(100);
    expect(trade.fills.map((f) => f.quantity)).toEqual([30, 70]);
    expect(trade.avgFillPrice).toBeCloseTo(0.3 * 150 + 0.7 * 149, 6);
  });

  it("a stop sell waits (PreSubmitted) until the price falls through the stop", async () => {
    const trade = await ib.sell("MSFT", 10, { stop: 390 });
    expect(trade.order).toMatchObject({ orderType: "STP", auxPrice: 390 });
    expect(trade.status).toBe("PreSubmitted");
    h.sim.setPrice("MSFT", 395);
    await sleep(50);
    expect(trade.isDone).toBe(false);
    h.sim.setPrice("MSFT", 389);
    await trade.done(2000);
    expect(trade.status).toBe("Filled");
  });

  it("stop plus limit makes a stop-limit; tif and orderRef go with the order", async () => {
    const trade = await ib.placeOrder("AAPL", {
      side: "BUY",
      quantity: 3,
      stop: 210,
      limit: 211,
      tif: "GTC",
      orderRef: "breakout-1",
    });
    expect(trade.order).toMatchObject({ orderType: "STP LMT", auxPrice: 210, lmtPrice: 211, tif: "GTC" });
    const sent = h.sent("placeOrder", 2)[0];
    expect(sent?.order).toMatchObject({
      orderType: "STP LMT",
      auxPrice: 210,
      lmtPrice: 211,
      tif: "GTC",
      orderRef: "breakout-1",
    });
    expect(h.sim.order(2, trade.orderId)?.orderRef).toBe("breakout-1");
  });

  it("a future by contract object", async () => {
    const es = await ib.contract({ symbol: "ES", secType: "FUT" as never, exchange: "CME" });
    const trade = await ib.buy(es.contract, 1);
    await trade.done(2000);
    expect(trade.status).toBe("Filled");
    expect(trade.fills[0]?.secType).toBe("FUT");
  });

  it("each order gets a new id", async () => {
    const a = await ib.buy("AAPL", 1, { limit: 100 });
    const b = await ib.buy("AAPL", 1, { limit: 100 });
    const c = await ib.sell("AAPL", 1, { limit: 300 });
    expect(b.orderId).toBe(a.orderId + 1);
    expect(c.orderId).toBe(b.orderId + 1);
    expect(ib.allTrades).toEqual([a, b, c]);
  });
});

describe("events", () => {
  it("order, fill and position events follow an order through", async () => {
    const orders: Array<[number, string]> = [];
    const fills: string[] = [];
    const positions: Array<[string, number]> = [];
    ib.on("order", (o) => orders.push([o.orderId, o.status]));
    ib.on("fill", (f) => fills.push(f.execId));
    ib.on("position", (p) => positions.push([p.symbol, p.quantity]));
    const trade = await ib.buy("AAPL", 2);
    await trade.done(2000);
    await until(() => positions.length > 0 && fills.length > 0, 2000, "the fill and position events");
    expect(orders).toContainEqual([trade.orderId, "Filled"]);
    expect(fills).toContain(trade.fills[0]?.execId);
    expect(positions).toContainEqual(["AAPL", 2]);
    expect(trade.log.map((l) => l.status)).toContain("Filled");
  });
});

describe("cancelOrder() and cancelAll()", () => {
  it("cancels a working order; the trade ends Cancelled", async () => {
    const trade = await ib.buy("AAPL", 5, { limit: 100 });
    const result = await ib.cancelOrder(trade);
    expect(result).toBe(trade);
    expect(trade.status).toBe("Cancelled");
    expect(trade.isDone).toBe(true);
    expect(h.sent("cancelOrder", 2).map((r) => r.orderId)).toEqual([trade.orderId]);
    expect(h.sim.order(2, trade.orderId)?.status).toBe("Cancelled");
  });

  it("by order id, too", async () => {
    const trade = await ib.buy("AAPL", 5, { limit: 100 });
    await ib.cancelOrder(trade.orderId);
    expect(trade.status).toBe("Cancelled");
  });

  it("a filled order is already done: nothing is sent", async () => {
    const trade = await ib.buy("AAPL", 1);
    await trade.done(2000);
    await expect(ib.cancelOrder(trade)).resolves.toBe(trade);
    await h.flush(ib);
    expect(h.sent("cancelOrder", 2)).toEqual([]);
  });

  it("an order id TWS does not know → OrderRejectedError 10147", async () => {
    const error = await rejection(ib.cancelOrder(9999));
    expect(error).toBeInstanceOf(OrderRejectedError);
    expect((error as OrderRejectedError).code).toBe(10147);
  });

  it("an invalid order id is refused before sending", async () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      const error = await rejection(ib.cancelOrder(bad));
      expect((error as InvalidArgumentError).field).toBe("orderId");
    }
    await h.flush(ib);
    expect(h.sent("cancelOrder")).toEqual([]);
  });

  it("cancelAll cancels every working order, other clients' too", async () => {
    const a = await ib.buy("AAPL", 5, { limit: 100 });
    const b = await ib.sell("MSFT", 5, { limit: 500 });
    await ib.cancelAll();
    await Promise.all([a.done(2000), b.done(2000)]);
    expect([a.status, b.status]).toEqual(["Cancelled", "Cancelled"]);
    await until(() => h.sim.order(7, 40)?.status === "Cancelled", 2000, "the other client's order");
    expect(h.sent("reqGlobalCancel", 2)).toHaveLength(1);
    expect(await ib.openOrders()).toEqual([]);
  });
});

describe("whatIf()", () => {
  it("returns margin and commission impact and places nothing", async () => {
    const booked = h.sim.exchange.orders.size;
    const result = await ib.whatIf("AAPL", { side: "BUY", quantity: 100, limit: 200 });
    expect(result.initMarginChange).toBeCloseTo(100 * 200 * 0.25, 2);
    expect(result.maintMarginChange).toBeGreaterThan(0);
    expect(result.commission).toBeGreaterThan(0);
    expect(result.commissionCurrency).toBe("USD");
    expect(result.equityWithLoanChange).toBeLessThan(0);
    expect(h.sim.exchange.orders.size).toBe(booked);
    expect(ib.allTrades).toEqual([]);
    expect(h.sent("placeOrder", 2)[0]?.order.whatIf).toBe(true);
    expect((await ib.openOrders()).filter((o) => o.clientId === 2)).toEqual([]);
  });

  it("an unknown symbol → NoSecurityDefinitionError; invalid input → InvalidArgumentError before sending", async () => {
    await expect(ib.whatIf("ZZZZ", { side: "BUY", quantity: 1 })).rejects.toBeInstanceOf(
      NoSecurityDefinitionError,
    );
    const before = h.sent("placeOrder").length;
    expect(await rejection(ib.whatIf("AAPL", { side: "BUY", quantity: -1 }))).toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(h.sent("placeOrder")).toHaveLength(before);
  });
});

describe("rejections", () => {
  it("an unknown symbol → NoSecurityDefinitionError (200), the trade marked Inactive", async () => {
    const error = await rejection(ib.buy("ZZZZ", 1));
    expect(error).toBeInstanceOf(NoSecurityDefinitionError);
    expect((error as NoSecurityDefinitionError).code).toBe(200);
    expect((error as NoSecurityDefinitionError).what).toContain('"ZZZZ"');
    const trade = ib.allTrades.at(-1);
    expect(trade?.status).toBe("Inactive");
    expect(trade?.error).toBe(error);
    await expect(trade?.done(100)).resolves.toBe(trade);
  });

  it("a price off the tick grid → OrderRejectedError (110) with IB's reason, the trade Inactive", async () => {
    const error = await rejection(ib.buy("AAPL", 1, { limit: 190.005 }));
    expect(error).toBeInstanceOf(OrderRejectedError);
    expect((error as OrderRejectedError).code).toBe(110);
    expect((error as OrderRejectedError).what).toContain("minimum price variation");
    expect(ib.allTrades.at(-1)?.status).toBe("Inactive");
  });

  it("a fractional quantity TWS refuses → OrderRejectedError (201)", async () => {
    const error = await rejection(ib.buy("AAPL", 1.5));
    expect((error as OrderRejectedError).code).toBe(201);
    expect((error as OrderRejectedError).what).toContain("size increment");
  });

  it("a rejection after acceptance ends the trade Inactive with IB's reason", async () => {
    const trade = await ib.buy("AAPL", 5, { limit: 100 });
    h.sim.rejectOrder(2, trade.orderId, "no trading permissions for this exchange");
    await trade.done(2000);
    expect(trade.status).toBe("Inactive");
    expect(trade.error).toBeInstanceOf(OrderRejectedError);
    expect(trade.error?.code).toBe(201);
    expect(trade.error?.what).toContain("no trading permissions");
    expect(inspect(trade)).toContain("no trading permissions");
  });

  it("a cancel from TWS's side ends the trade Cancelled", async () => {
    const trade = await ib.buy("AAPL", 5, { limit: 100 });
    h.sim.cancelOrder(2, trade.orderId);
    await trade.done(2000);
    expect(trade.status).toBe("Cancelled");
  });
});

describe("invalid orders are refused before anything is sent", () => {
  const cases: Array<[string, OrderSpec, string]> = [
    ["quantity 0", { side: "BUY", quantity: 0 }, "quantity"],
    ["quantity -5", { side: "BUY", quantity: -5 }, "quantity"],
    ["quantity NaN", { side: "BUY", quantity: Number.NaN }, "quantity"],
    ["quantity Infinity", { side: "BUY", quantity: Number.POSITIVE_INFINITY }, "quantity"],
    ['quantity "10"', { side: "BUY", quantity: "10" as never }, "quantity"],
    ["limit -1", { side: "BUY", quantity: 1, limit: -1 }, "limit"],
    ["limit 0", { side: "BUY", quantity: 1, limit: 0 }, "limit"],
    ["limit NaN", { side: "BUY", quantity: 1, limit: Number.NaN }, "limit"],
    ["stop Infinity", { side: "SELL", quantity: 1, stop: Number.POSITIVE_INFINITY }, "stop"],
    ['side "HOLD"', { side: "HOLD" as never, quantity: 1 }, "side"],
    ["no side", { quantity: 1 } as never, "side"],
    ['tif "WEEK"', { side: "BUY", quantity: 1, tif: "WEEK" as never }, "tif"],
    ["orderRef 5", { side: "BUY", quantity: 1, orderRef: 5 as never }, "orderRef"],
    ["an account the login does not have", { side: "BUY", quantity: 1, account: "DU7654321" }, "account"],
  ];

  it.each(cases)("%s", async (_name, spec, field) => {
    const error = await rejection(ib.placeOrder("AAPL", spec));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe(field);
    await h.flush(ib);
    expect(h.sent("placeOrder")).toEqual([]);
    expect(ib.allTrades).toEqual([]);
  });

  it.each([
    ["an empty symbol", ""],
    ["a symbol with spaces and punctuation", "AA PL!"],
    ["a number", 42 as never],
    ["null", null as never],
  ])("%s", async (_name, symbol) => {
    expect(await rejection(ib.buy(symbol, 1))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(ib.sell(symbol, 1))).toBeInstanceOf(InvalidArgumentError);
    await h.flush(ib);
    expect(h.sent("placeOrder")).toEqual([]);
  });

  it("a refused order does not use up an order id", async () => {
    const next = h.sim.exchange.nextOrderId; // what TWS handed out at connect
    await rejection(ib.buy("AAPL", -1));
    const trade = await ib.buy("AAPL", 1, { limit: 100 });
    expect(trade.orderId).toBe(next);
  });
});
