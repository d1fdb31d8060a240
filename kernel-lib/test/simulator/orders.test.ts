/**
 * Orders end to end with @stoqey/ib's IBApi: placing, matching (market, limit, stop, partial fills),
 * cancelling, ownership by client id, open-order and execution queries, and IB's rejections.
 */
import { EventName, type Order, OrderAction, OrderType, TimeInForce } from "@stoqey/ib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultScenario, parseScenario, TwsSimulator, Universe } from "../../src/simulator";
import { RecordingClient, stock } from "../support/ib-client";

let sim: TwsSimulator;
const clients: RecordingClient[] = [];

async function connect(clientId = 2): Promise<RecordingClient> {
  const client = await RecordingClient.connect(sim, clientId);
  clients.push(client);
  return client;
}

const order = (
  action: OrderAction,
  totalQuantity: number,
  orderType: OrderType,
  prices: { lmt?: number; aux?: number } = {},
): Order => ({
  action,
  totalQuantity,
  orderType,
  lmtPrice: prices.lmt,
  auxPrice: prices.aux,
  tif: TimeInForce.DAY,
  transmit: true,
});

const statusOf = (client: RecordingClient, orderId: number, status: string) =>
  client.waitFor(EventName.orderStatus, (a) => a[0] === orderId && a[1] === status);

beforeEach(async () => {
  sim = await TwsSimulator.start({
    port: 0,
    tickIntervalMs: 0,
    accountUpdateIntervalMs: 0,
    pnlIntervalMs: 0,
  });
  sim.setPrice("AAPL", 200);
});

afterEach(async () => {
  for (const c of clients.splice(0)) {
    expect(c.decodeErrors).toEqual([]);
    c.disconnect();
  }
  await sim.close();
});

describe("placing orders", () => {
  it("fills a market order at the touch and reports execution, commission, status and position", async () => {
    const ib = await connect();
    const id = ib.nextValidId;
    const ask = sim.market.quote(265598).ask;
    ib.api.reqPositions();
    ib.api.placeOrder(id, stock("AAPL"), order(OrderAction.BUY, 10, OrderType.MKT));

    const [reqId, contract, execution] = await ib.waitFor(EventName.execDetails);
    expect(reqId).toBe(-1);
    expect(contract).toMatchObject({ symbol: "AAPL", conId: 265598 });
    expect(execution).toMatchObject({
      orderId: id,
      side: "BOT",
      shares: 10,
      price: ask,
      clientId: 2,
      acctNumber: "DU1234567",
    });
    const [report] = await ib.waitFor(EventName.commissionReport);
    expect(report).toMatchObject({
      execId: (execution as { execId: string }).execId,
      commission: 1,
      currency: "USD",
    });
    expect((report as { realizedPNL?: number }).realizedPNL).toBeUndefined(); // opening fill: DBL_MAX on the wire
    const status = await statusOf(ib, id, "Filled");
    expect(status.slice(0, 5)).toEqual([id, "Filled", 10, 0, ask]);
    const [account, , , avgCost] = await ib.waitFor(EventName.position, (a) => a[2] === 10);
    expect(account).toBe("DU1234567");
    expect(avgCost).toBeCloseTo(ask + 0.1, 6); // $1 commission over 10 shares is in IB's average cost
    expect(sim.exchange.executions).toHaveLength(1);
  });

  it("fills a large market order in parts, up to the displayed size at each step", async () => {
    const ib = await connect();
    const id = ib.nextValidId;
    sim.setPrice("AAPL", 200);
    const firstAsk = sim.market.quote(265598).askSize;
    const total = firstAsk + 5_000;
    ib.api.placeOrder(id, stock("AAPL"), order(OrderAction.BUY, total, OrderType.MKT));
    await ib.waitFor(EventName.execDetails);
    expect(sim.order(2, id)).toMatchObject({ status: "Submitted", filled: firstAsk });
    for (let i = 0; i < 50 && sim.order(2, id)?.status !== "Filled"; i++) sim.step();
    await statusOf(ib, id, "Filled");
    const fills = ib.all(EventName.execDetails).map((a) => a[2] as { shares: number; cumQty: number });
    expect(fills.length).toBeGreaterThan(1);
    expect(fills.reduce((sum, f) => sum + f.shares, 0)).toBe(total);
    expect(fills.at(-1)?.cumQty).toBe(total);
  });

  it("keeps a limit order working until the market reaches it", async () => {
    const ib = await connect();
    const id = ib.nextValidId;
    ib.api.placeOrder(id, stock("AAPL"), order(OrderAction.BUY, 5, OrderType.LMT, { lmt: 190 }));
    const [, contract, o, state] = await ib.waitFor(EventName.openOrder, (a) => a[0] === id);
    expect(contract).toMatchObject({ symbol: "AAPL" });
    expect(o).toMatchObject({
      orderType: "LMT",
      lmtPrice: 190,
      totalQuantity: 5,
      clientId: 2,
      permId: expect.any(Number),
    });
    expect(state).toMatchObject({ status: "Submitted" });
    sim.step(5);
    expect(ib.all(EventName.execDetails)).toHaveLength(0);
    sim.setPrice("AAPL", 189);
    const [, , execution] = await ib.waitFor(EventName.execDetails);
    expect((execution as { price: number }).price).toBeLessThanOrEqual(190);
    await statusOf(ib, id, "Filled");
  });

  it("triggers a stop order when the last price crosses it, then fills as market", async () => {
    const ib = await connect();
    const id = ib.nextValidId;
    ib.api.placeOrder(id, stock("AAPL"), order(OrderAction.SELL, 5, OrderType.STP, { aux: 195 }));
    await statusOf(ib, id, "PreSubmitted");
    sim.setPrice("AAPL", 196);
    expect(sim.order(2, id)?.status).toBe("PreSubmitted");
    sim.setPrice("AAPL", 194.5);
    const [, , execution] = await ib.waitFor(EventName.execDetails);
    expect(execution).toMatchObject({ side: "SLD", shares: 5 });
    await statusOf(ib, id, "Filled");
  });

  it("modifies a working order placed again with the same id", async () => {
    const ib = await connect();
    const id = ib.nextValidId;
    ib.api.placeOrder(id, stock("AAPL"), order(OrderAction.BUY, 5, OrderType.LMT, { lmt: 180 }));
    await statusOf(ib, id, "Submitted");
    ib.api.placeOrder(id, stock("AAPL"), order(OrderAction.BUY, 8, OrderType.LMT, { lmt: 181 }));
    await ib.waitFor(
      EventName.openOrder,
      (a) => a[0] === id && (a[2] as { lmtPrice: number }).lmtPrice === 181,
    );
    expect(sim.exchange.working()).toHaveLength(1);
    expect(sim.order(2, id)).toMatchObject({ totalQuantity: 8, lmtPrice: 181 });
  });

  it("previews a whatIf order with margin and commission and books nothing", async () => {
    const ib = await connect();
    const id = ib.nextValidId;
    ib.api.placeOrder(id, stock("AAPL"), {
      ...order(OrderAction.BUY, 100, OrderType.LMT, { lmt: 200 }),
      whatIf: true,
    });
    const [, , o, state] = await ib.waitFor(EventName.openOrder, (a) => a[0] === id);
    expect((o as { whatIf: boolean }).whatIf).toBe(true);
    expect(state).toMatchObject({ initMarginChange: 5000, commission: 1, commissionCurrency: "USD" });
    expect(sim.exchange.orders.size).toBe(0);
  });
});

describe("cancelling", () => {
  it("cancels a working order: Cancelled status and error 202", async () => {
    const ib = await connect();
    const id = ib.nextValidId;
    ib.api.placeOrder(id, stock("AAPL"), order(OrderAction.BUY, 5, OrderType.LMT, { lmt: 150 }));
    await statusOf(ib, id, "Submitted");
    ib.api.cancelOrder(id);
    await statusOf(ib, id, "Cancelled");
    expect((await ib.waitForError(202, id)).message).toMatch(/Order Canceled/);
  });

  it("refuses to cancel an unknown order (10147) or a filled one (10148)", async () => {
    const ib = await connect();
    ib.api.cancelOrder(4242);
    expect((await ib.waitForError(10147, 4242)).message).toBe(
      "OrderId 4242 that needs to be cancelled is not found.",
    );
    const id = ib.nextValidId;
    ib.api.placeOrder(id, stock("AAPL"), order(OrderAction.BUY, 1, OrderType.MKT));
    await statusOf(ib, id, "Filled");
    ib.api.cancelOrder(id);
    expect((await ib.waitForError(10148, id)).message).toMatch(/state: Filled/);
  });

  it("reqGlobalCancel cancels the working orders of every client", async () => {
    const a = await connect(2);
    const b = await connect(5);
    a.api.placeOrder(a.nextValidId, stock("AAPL"), order(OrderAction.BUY, 1, OrderType.LMT, { lmt: 150 }));
    await statusOf(a, a.nextValidId, "Submitted");
    b.api.placeOrder(
      a.nextValidId + 1,
      stock("MSFT"),
      order(OrderAction.BUY, 1, OrderType.LMT, { lmt: 100 }),
    );
    await statusOf(b, a.nextValidId + 1, "Submitted");
    a.api.reqGlobalCancel();
    await statusOf(a, a.nextValidId, "Cancelled");
    await statusOf(b, a.nextValidId + 1, "Cancelled");
    expect(sim.exchange.working()).toHaveLength(0);
  });
});

describe("orders belong to the client id that placed them", () => {
  it("shows a client only its own orders and lets only it cancel them; reqAllOpenOrders shows all", async () => {
    const a = await connect(2);
    const b = await connect(3);
    const id = a.nextValidId;
    a.api.placeOrder(id, stock("AAPL"), order(OrderAction.BUY, 5, OrderType.LMT, { lmt: 150 }));
    await statusOf(a, id, "Submitted");
    expect(b.all(EventName.openOrder)).toHaveLength(0); // status updates go to the owner only

    b.api.reqOpenOrders();
    await b.waitFor(EventName.openOrderEnd);
    expect(b.all(EventName.openOrder)).toHaveLength(0);
    b.api.cancelOrder(id);
    await b.waitForError(10147, id);
    expect(sim.order(2, id)?.status).toBe("Submitted");

    b.api.reqAllOpenOrders();
    await b.waitForNext(EventName.openOrderEnd);
    expect(b.all(EventName.openOrder).map((args) => args[0])).toEqual([id]);
  });

  it("gives client 0 the orders entered by hand in TWS", async () => {
    const scenario = parseScenario(
      {
        accounts: [{ id: "DU1111111", cash: 100_000 }],
        openOrders: [
          {
            clientId: 0,
            orderId: 0,
            contract: "MSFT",
            action: "SELL",
            quantity: 10,
            orderType: "LMT",
            lmtPrice: 500,
          },
          {
            clientId: 7,
            orderId: 3,
            contract: "AAPL",
            action: "BUY",
            quantity: 10,
            orderType: "LMT",
            lmtPrice: 100,
          },
        ],
      },
      new Universe(),
    );
    await sim.close();
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, scenario });
    const master = await connect(0);
    master.api.reqOpenOrders();
    await master.waitFor(EventName.openOrderEnd);
    expect(master.all(EventName.openOrder).map((a) => (a[1] as { symbol: string }).symbol)).toEqual(["MSFT"]);
    const seven = await connect(7);
    seven.api.reqOpenOrders();
    await seven.waitFor(EventName.openOrderEnd);
    expect(seven.all(EventName.openOrder).map((a) => a[0])).toEqual([3]);
  });

  it("hands out order ids above every id already used, through nextValidId and reqIds", async () => {
    const a = await connect(2);
    const first = a.nextValidId;
    a.api.placeOrder(first + 10, stock("AAPL"), order(OrderAction.BUY, 1, OrderType.LMT, { lmt: 100 }));
    await statusOf(a, first + 10, "Submitted");
    const b = await connect(3);
    expect(b.nextValidId).toBe(first + 11);
    a.api.reqIds(1);
    await a.waitForNext(EventName.nextValidId, (args) => args[0] === first + 11);
  });
});

describe("executions", () => {
  it("lists today's executions with commissions through reqExecutions, filtered", async () => {
    const ib = await connect();
    const id = ib.nextValidId;
    ib.api.placeOrder(id, stock("AAPL"), order(OrderAction.BUY, 3, OrderType.MKT));
    ib.api.placeOrder(id + 1, stock("MSFT"), order(OrderAction.BUY, 2, OrderType.MKT));
    await statusOf(ib, id + 1, "Filled");
    ib.api.reqExecutions(77, { symbol: "MSFT" });
    await ib.waitFor(EventName.execDetailsEnd, (a) => a[0] === 77);
    const listed = ib.all(EventName.execDetails).filter((a) => a[0] === 77);
    expect(listed.map((a) => (a[1] as { symbol: string }).symbol)).toEqual(["MSFT"]);
    expect(ib.all(EventName.commissionReport).length).toBe(3);
  });

  it("realizes P&L on a closing fill and reports it in the commission report", async () => {
    const scenario = defaultScenario();
    scenario.accounts[0]?.positions.push({ contract: "AAPL", quantity: 10, avgCost: 150 });
    await sim.close();
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, scenario });
    sim.setPrice("AAPL", 200);
    const ib = await connect();
    const bid = sim.market.quote(265598).bid;
    ib.api.placeOrder(ib.nextValidId, stock("AAPL"), order(OrderAction.SELL, 10, OrderType.MKT));
    const [report] = await ib.waitFor(EventName.commissionReport);
    expect((report as { realizedPNL: number }).realizedPNL).toBeCloseTo((bid - 150) * 10 - 1, 2);
    expect(sim.accounts.get("DU1234567")?.positions.get(265598)?.quantity).toBe(0);
  });
});

describe("rejections carry IB's codes", () => {
  const cases: Array<[string, object, object, number, RegExp]> = [
    [
      "an unknown symbol",
      { symbol: "NOPE", secType: "STK", exchange: "SMART", currency: "USD" },
      {},
      200,
      /No security definition/,
    ],
    ["a zero quantity", stock("AAPL"), { totalQuantity: 0 }, 434, /cannot be zero/],
    ["a negative quantity", stock("AAPL"), { totalQuantity: -5 }, 201, /quantity -5/],
    ["an invalid side", stock("AAPL"), { action: "HOLD" }, 201, /Invalid action "HOLD"/],
    ["an unsupported order type", stock("AAPL"), { orderType: "MOC" }, 387, /Unsupported order type/],
    [
      "a limit order without a price",
      stock("AAPL"),
      { orderType: "LMT", lmtPrice: undefined },
      201,
      /limit price/,
    ],
    [
      "a price off the tick grid",
      stock("AAPL"),
      { orderType: "LMT", lmtPrice: 100.123 },
      110,
      /minimum price variation/,
    ],
    [
      "an account of another login",
      stock("AAPL"),
      { account: "U9999999" },
      201,
      /not one of this login's accounts/,
    ],
  ];
  it.each(cases)("rejects %s", async (_what, contract, changes, code, text) => {
    const ib = await connect();
    const id = ib.nextValidId;
    ib.api.placeOrder(
      id,
      contract as never,
      { ...order(OrderAction.BUY, 1, OrderType.MKT), ...changes } as never,
    );
    const error = await ib.waitForError(code, id);
    expect(error.message).toMatch(text);
    expect(sim.exchange.orders.size).toBe(0);
  });

  it("refuses to reuse the id of a finished order (103) and to modify a filled one (104)", async () => {
    const ib = await connect();
    const id = ib.nextValidId;
    ib.api.placeOrder(id, stock("AAPL"), order(OrderAction.BUY, 1, OrderType.MKT));
    await statusOf(ib, id, "Filled");
    ib.api.placeOrder(id, stock("AAPL"), order(OrderAction.BUY, 1, OrderType.MKT));
    await ib.waitForError(104, id);
    ib.api.placeOrder(id + 1, stock("AAPL"), order(OrderAction.BUY, 1, OrderType.LMT, { lmt: 100 }));
    await statusOf(ib, id + 1, "Submitted");
    ib.api.cancelOrder(id + 1);
    await statusOf(ib, id + 1, "Cancelled");
    ib.api.placeOrder(id + 1, stock("AAPL"), order(OrderAction.BUY, 1, OrderType.LMT, { lmt: 100 }));
    await ib.waitForError(103, id + 1);
    expect(sim.exchange.executions).toHaveLength(1);
  });

  it("lets the control API reject or cancel a working order, as TWS or the exchange would", async () => {
    const ib = await connect();
    const id = ib.nextValidId;
    ib.api.placeOrder(id, stock("AAPL"), order(OrderAction.BUY, 1, OrderType.LMT, { lmt: 100 }));
    ib.api.placeOrder(id + 1, stock("AAPL"), order(OrderAction.BUY, 1, OrderType.LMT, { lmt: 100 }));
    await statusOf(ib, id + 1, "Submitted");
    sim.rejectOrder(2, id, "Exchange closed");
    expect((await ib.waitForError(201, id)).message).toBe("Order rejected - reason:Exchange closed");
    await statusOf(ib, id, "Inactive");
    sim.cancelOrder(2, id + 1);
    await statusOf(ib, id + 1, "Cancelled");
  });

  it("fills part of a working order on command (control API)", async () => {
    const ib = await connect();
    const id = ib.nextValidId;
    ib.api.placeOrder(id, stock("AAPL"), order(OrderAction.BUY, 10, OrderType.LMT, { lmt: 150 }));
    await statusOf(ib, id, "Submitted");
    sim.fillOrder(2, id, { quantity: 4, price: 150 });
    const status = await ib.waitFor(EventName.orderStatus, (a) => a[0] === id && a[2] === 4);
    expect(status.slice(1, 5)).toEqual(["Submitted", 4, 6, 150]);
  });
});

describe('TWS with "Read-Only API" ticked', () => {
  const READ_ONLY =
    /^Error validating request:-'b.' : cause - The API interface is currently in Read-Only mode\.$/;

  it("refuses to list, place and cancel orders with 321; positions and market data still answer", async () => {
    const writer = await connect(2);
    const id = writer.nextValidId;
    writer.api.placeOrder(id, stock("AAPL"), order(OrderAction.BUY, 5, OrderType.LMT, { lmt: 150 }));
    await statusOf(writer, id, "Submitted");
    sim.setReadOnlyApi(true);

    const ib = await connect(7);
    ib.api.reqAllOpenOrders();
    // Id -1: @stoqey/ib reports it as `info` (message, code).
    const [listing] = await ib.waitFor(EventName.info, (a) => a[1] === 321);
    expect(listing).toMatch(READ_ONLY);

    const next = ib.nextValidId;
    ib.api.placeOrder(next, stock("AAPL"), order(OrderAction.BUY, 1, OrderType.MKT));
    const [placing, , placingId] = await ib.waitFor(EventName.error, (a) => a[1] === 321 && a[2] === next);
    expect((placing as Error).message).toMatch(READ_ONLY);
    writer.api.cancelOrder(id);
    const [cancelling] = await writer.waitFor(EventName.error, (a) => a[1] === 321 && a[2] === id);
    expect((cancelling as Error).message).toMatch(READ_ONLY);

    // Reading still works: positions, quotes.
    ib.api.reqPositions();
    await ib.waitFor(EventName.positionEnd);
    ib.api.reqMktData(9001, stock("AAPL"), "", false, false);
    await ib.waitFor(EventName.tickPrice, (a) => a[0] === 9001);

    // Nothing was listed, placed or cancelled.
    expect(ib.all(EventName.openOrderEnd)).toEqual([]);
    expect(sim.order(7, placingId as number)).toBeUndefined();
    expect(sim.order(2, id)?.status).toBe("Submitted");

    // Unticked: the next request goes through, on the same connection.
    sim.setReadOnlyApi(false);
    ib.api.reqAllOpenOrders();
    await ib.waitFor(EventName.openOrderEnd);
    expect(ib.all(EventName.openOrder).map((a) => a[0])).toEqual([id]);
  });
});
