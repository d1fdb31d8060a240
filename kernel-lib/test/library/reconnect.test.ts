/**
 * Keepalive and reconnect against the simulator's faults: a half-open socket is caught by the
 * keepalive, the daily restart is survived with every subscription restored, a fill that happened
 * while disconnected reaches its trade exactly once, and no order is ever sent twice.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NotConnectedError } from "../../src/errors";
import { encodeFrame } from "../../src/simulator/protocol";
import type { ClientSession } from "../../src/simulator/server/session";
import type { PnL } from "../../src/state/types";
import { Harness, recordStates, routeFrames, scenario, sleep, until } from "./helpers";

const h = new Harness();
beforeEach(() =>
  h.start({
    scenario: scenario({
      accounts: [
        { id: "DU1234567", cash: 100_000, positions: [{ contract: "MSFT", quantity: 10, avgCost: 300 }] },
      ],
    }),
  }),
);
afterEach(() => h.stop());

/** State names with consecutive repeats collapsed. */
function path(states: Array<{ state: string }>): string[] {
  return states.map((s) => s.state).filter((s, i, all) => i === 0 || all[i - 1] !== s);
}

/**
 * Holds back the frames with these message ids (execDetails 11, execDetailsEnd 55, commissionReport
 * 59) that the simulator writes to the first session asking for executions, from then on; returns
 * the function that sends what it held and stops holding.
 */
function holdExecutionFrames(ids: readonly string[]): () => void {
  const held: Buffer[] = [];
  let release = () => {};
  let patched = false;
  h.sim.on("request", (session: ClientSession, request: { type: string }) => {
    if (patched || request.type !== "reqExecutions") return;
    patched = true;
    let holding = true;
    let send = (_frame: Buffer) => {};
    routeFrames(session, (id, frame, write) => {
      send = write;
      if (holding && ids.includes(id)) held.push(frame);
      else write(frame);
    });
    release = () => {
      holding = false;
      for (const frame of held.splice(0)) send(frame);
    };
  });
  return () => release();
}

/**
 * When the simulator next answers a keepalive, blocks the event loop for `ms` right after writing the
 * answer, as a long synchronous cell in the kernel would (simulator and library share the process);
 * `before` writes something ahead of the answer. Returns whether it happened yet.
 */
function busyAfterKeepaliveAnswer(ms: number, before?: (session: ClientSession) => void): () => boolean {
  let done = false;
  h.sim.on("request", (session: ClientSession, request: { type: string }) => {
    if (done || request.type !== "reqCurrentTime") return;
    done = true;
    before?.(session);
    const socket = session.socket as unknown as { write: (...args: never[]) => boolean };
    const write = socket.write;
    socket.write = (...args: never[]) => {
      socket.write = write;
      const result = write.apply(socket, args);
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // busy, as a cell computing
      }
      return result;
    };
  });
  return () => done;
}

/** A connection with its state changes and warnings recorded, for a test that expects none. */
async function watchedConnection(keepaliveMs: number) {
  const ib = await h.connect({ keepaliveMs });
  const warnings: Error[] = [];
  ib.on("warning", (w) => warnings.push(w));
  return { ib, states: recordStates(ib), warnings };
}

/** Nothing befell the connection: no warning, no change of state, still the one connection. */
function expectUndisturbed(states: readonly unknown[], warnings: readonly Error[]): void {
  expect(warnings).toEqual([]);
  expect(states).toEqual([]);
  expect(h.connections).toBe(1);
}

/**
 * An earlier kernel with the same client id (2) bought 10 AAPL this morning, `filled` of them filled
 * in one execution, then went away.
 */
async function tradedThisMorning(filled = 10) {
  h.sim.setPrice("AAPL", 200);
  const earlier = await h.connect({ trading: true });
  const order = await earlier.buy("AAPL", 10, { limit: 150 });
  const fill = h.sim.fillOrder(2, order.orderId, { quantity: filled, price: 150 });
  await until(() => order.fills.length === 1, 2000, "the morning's fill");
  earlier.close();
  return { order, fill };
}

/** Reconnect times measured in this file, printed at the end for the record. */
const measured: string[] = [];

describe("half-open socket", () => {
  it("is detected by the keepalive within two intervals, and the library reconnects", async () => {
    const keepaliveMs = 100;
    const ib = await h.connect({ keepaliveMs });
    const states = recordStates(ib);
    await sleep(30);
    const frozenAt = performance.now();
    h.sim.halfOpen();
    await until(() => states.some((s) => s.state !== "connected"), 2000, "the keepalive to notice");
    const detectedAfter = (states[0]?.at ?? 0) - frozenAt;
    expect(states[0]?.state).toBe("stale");
    expect(states[0]?.reason).toMatch(/keepalive unanswered/);
    expect(detectedAfter).toBeGreaterThan(0); // not a false alarm from before the fault
    expect(detectedAfter).toBeLessThanOrEqual(2 * keepaliveMs + 80); // two intervals, plus timer slack

    await until(() => ib.state.state === "connected", 3000, "the reconnect");
    expect(path(states)).toEqual(["stale", "reconnecting", "connected"]);
    expect(states.find((s) => s.state === "reconnecting")?.reason).toMatch(/half-open/);
    expect(ib.state.reason).toBe("reconnected");
    // The frozen session was dropped; the new one answers.
    expect(h.sim.clients().filter((s) => s.clientId === 2)).toHaveLength(1);
    await expect(ib.positions()).resolves.toHaveLength(1);
    measured.push(`half-open detected after ${detectedAfter.toFixed(0)} ms (keepalive ${keepaliveMs} ms)`);
  });

  it("without a fault the keepalive never marks the connection stale", async () => {
    const ib = await h.connect({ keepaliveMs: 50 });
    const states = recordStates(ib);
    await sleep(400);
    expect(states).toEqual([]);
    expect(h.sent("reqCurrentTime", 2).length).toBeGreaterThanOrEqual(5);
  });

  it("a kernel busy for longer than an interval (a long synchronous cell) is not taken for a half-open socket", async () => {
    const keepaliveMs = 100;
    const ib = await h.connect({ keepaliveMs });
    const states = recordStates(ib);
    // Right after the gateway writes its answer to a keepalive, the event loop is blocked for 2.5
    // intervals, as by a long synchronous computation in a notebook cell. Afterwards the overdue
    // keepalive timer runs before the socket is read: the answer is there, just not read yet.
    const blocked = busyAfterKeepaliveAnswer(2.5 * keepaliveMs);
    await until(blocked, 2000, "a keepalive");
    await sleep(4 * keepaliveMs);
    expect(states).toEqual([]);
    expect(h.connections).toBe(1);
  });

  it("a long answer still arriving when a busy kernel looks at the keepalive is not taken for a dead stream", async () => {
    const keepaliveMs = 100;
    const { states, warnings } = await watchedConnection(keepaliveMs);
    // Ahead of a keepalive's answer, a 360 kB answer (8,000 bars nobody asked for, as a long bar
    // download); then the event loop is blocked for 2.5 intervals, as by a long synchronous cell.
    // When the overdue timer looks, one round of reads has taken only part of it.
    const bar = {
      time: "20240102 10:00:00",
      open: 1.25,
      high: 1.5,
      low: 1,
      close: 1.25,
      volume: 100,
      wap: 1.25,
      count: 7,
    };
    const blocked = busyAfterKeepaliveAnswer(2.5 * keepaliveMs, (session) => {
      const bars = Array.from({ length: 8_000 }, () => bar);
      session.sendRaw(encodeFrame(session.encoder.historicalData(999_999, "20240101", "20240102", bars)));
    });
    await until(blocked, 2000, "a keepalive");
    await sleep(6 * keepaliveMs);
    expectUndisturbed(states, warnings);
  });

  it("a 4 MB answer read over several turns of a loop kept busy by a cell is not taken for a dead stream", async () => {
    const keepaliveMs = 100;
    const { states, warnings } = await watchedConnection(keepaliveMs);
    // A scanner-parameters answer (id 19; TWS's is about 2 MB of XML). Node reads a socket only so
    // much per turn of the loop, and the cell yields between chunks of work longer than an interval,
    // so the keepalive ticks late several times while the answer is still coming.
    const xml = `<ScanParameterResponse>${"<x>abc</x>".repeat(400_000)}</ScanParameterResponse>`;
    expect(h.sim.sendRaw(encodeFrame(["19", "1", xml]), { clientId: 2 })).toBe(1);
    for (let chunk = 0; chunk < 12; chunk++) {
      const until = performance.now() + 1.5 * keepaliveMs;
      while (performance.now() < until) {
        // busy, as a cell computing
      }
      await new Promise((resume) => setImmediate(resume));
    }
    await sleep(3 * keepaliveMs);
    expectUndisturbed(states, warnings);
  });

  it("a burst of requests that keeps the keepalive queued is not mistaken for a half-open socket", async () => {
    const ib = await h.connect({ keepaliveMs: 100 });
    const states = recordStates(ib);
    // 80 requests take 2 s to leave at @stoqey/ib's 40 per second; the keepalive's reqCurrentTime waits
    // behind them for many intervals, while TWS keeps answering the ones ahead of it.
    const symbols = Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? "AAPL" : "MSFT"));
    const quotes = await ib.quotes(symbols);
    expect(quotes).toHaveLength(80);
    expect(states).toEqual([]);
    expect(h.connections).toBe(1);
  });
});

describe("the gateway's daily restart", () => {
  it("reconnects by itself and restores positions, orders, fills, tickers and P&L; no order is resent", async () => {
    const ib = await h.connect({ trading: true, keepaliveMs: 200 });
    await ib.positions(); // followed from here on, like the orders of a trading connection
    const states = recordStates(ib);
    h.sim.setPrice("AAPL", 200);

    // Before the restart: a working order, part-filled live; a ticker; a P&L subscription.
    const trade = await ib.buy("AAPL", 10, { limit: 150 });
    expect(trade.status).toBe("Submitted");
    h.sim.fillOrder(2, trade.orderId, { quantity: 4, price: 150 });
    await until(() => trade.filled === 4 && trade.fills.length === 1, 2000, "the live part-fill");
    const ticker = ib.ticker("AAPL");
    await until(() => ticker.last === 200, 2000, "the ticker's first quote");
    const pnlBefore = await ib.pnl();
    expect(pnlBefore.account).toBe("DU1234567");
    const pnlUpdates: PnL[] = [];
    ib.broker.on("pnl", (p) => pnlUpdates.push(p));

    // The restart: sockets drop, and while the gateway is down the rest of the order fills.
    const restarting = h.sim.restart({ downMs: 700 });
    await until(() => ib.state.state === "reconnecting", 2000, "the drop to be noticed");
    expect(() => ib.ticker("MSFT")).toThrow(NotConnectedError);
    await expect(ib.positions()).rejects.toBeInstanceOf(NotConnectedError);
    // An order asked for while down is refused at once, never queued for the next session.
    await expect(ib.buy("AAPL", 1)).rejects.toBeInstanceOf(NotConnectedError);
    h.sim.fillOrder(2, trade.orderId, { price: 149.5 });
    h.sim.setPrice("AAPL", 201);
    await restarting;
    const backAt = performance.now();
    await ib.ready(5000);
    const reconnectMs = performance.now() - backAt;
    measured.push(
      `restart (down 700 ms): reconnected ${reconnectMs.toFixed(0)} ms after the gateway came back`,
    );
    expect(reconnectMs).toBeLessThan(1500); // backoff tops out at 1 s between attempts

    expect(path(states)).toEqual(["reconnecting", "connected"]);
    expect(states[0]?.reason).toMatch(/socket closed|ECONNRESET/);
    expect(ib.state.reason).toBe("reconnected");

    // Positions reloaded: MSFT from the scenario, AAPL bought across the restart.
    await until(() => ib.broker.positions.size === 2, 2000, "the positions download");
    const positions = await ib.positions();
    expect(positions.map((p) => [p.symbol, p.quantity])).toEqual([
      ["AAPL", 10],
      ["MSFT", 10],
    ]);

    // The fill from the down window reached the trade, once; the live one was not counted again.
    await until(() => trade.fills.length === 2, 2000, "the missed fill");
    await expect(trade.done(2000)).resolves.toBe(trade);
    expect(trade.status).toBe("Filled");
    expect(trade.filled).toBe(10);
    expect(trade.remaining).toBe(0);
    expect(trade.fills.map((f) => f.quantity)).toEqual([4, 6]);
    expect(trade.fills.every((f) => f.commission !== undefined)).toBe(true);
    expect(trade.avgFillPrice).toBeCloseTo((4 * 150 + 6 * 149.5) / 10, 6);

    // The ticker streams again on a new request id.
    const tickerRequests = h.sent("reqMktData", 2).filter((r) => !r.snapshot);
    expect(tickerRequests).toHaveLength(2);
    expect(tickerRequests[0]?.reqId).not.toBe(tickerRequests[1]?.reqId);
    await until(() => ticker.last === 201, 2000, "the ticker's first quote after the restart");
    h.sim.setPrice("AAPL", 205);
    await until(() => ticker.last === 205, 2000, "a streamed update after the restart");

    // P&L resubscribed and live.
    await until(() => h.sent("reqPnL", 2).length === 2, 2000, "the P&L subscription to be restored");
    h.sim.refreshPnl();
    await until(() => pnlUpdates.length > 0, 2000, "a P&L update after the restart");

    // One placeOrder for that order across both sessions; a new order gets a new id.
    expect(h.sent("placeOrder", 2).map((r) => r.orderId)).toEqual([trade.orderId]);
    const next = await ib.buy("AAPL", 1, { limit: 100 });
    expect(next.orderId).toBeGreaterThan(trade.orderId);
    const ids = h.sent("placeOrder", 2).map((r) => r.orderId);
    expect(new Set(ids).size).toBe(ids.length);
    ticker.stop();
  });

  it("an earlier kernel's order that fills while a read-only connection asked for nothing reaches its state at once", async () => {
    h.sim.setPrice("AAPL", 200);
    const earlier = await h.connect({ trading: true });
    const order = await earlier.buy("AAPL", 10, { limit: 150 });
    earlier.close();
    const ib = await h.connect(); // same client id (2), read-only, nothing asked for yet
    const fills: string[] = [];
    ib.broker.on("fill", (f) => fills.push(f.execId));
    const fill = h.sim.fillOrder(2, order.orderId, { quantity: 10, price: 150 });
    // TWS tells the client id that placed the order, unasked: nothing of it is dropped.
    await until(() => fills.length === 1, 2000, "the pushed fill");
    expect(fills).toEqual([fill.execution.execId]);
    await until(
      () => ib.broker.orders.get(`2/${order.orderId}`)?.status === "Filled",
      2000,
      "the order's end",
    );
  });

  it("what a read-only connection first asks for after a reconnect answers, and keeps updating, on the new session", async () => {
    const { order } = await tradedThisMorning(4); // a working order (6 left) and a fill of this client id
    const ib = await h.connect({ keepaliveMs: 200 });
    await h.sim.restart({ downMs: 200 });
    await ib.ready(4000);

    // Nothing of this was asked for on the first session: each listens from its first request.
    h.sim.setPrice("AAPL", 210);
    const ticker = ib.ticker("AAPL");
    await until(() => ticker.last === 210, 2000, "the ticker's first quote");
    const pnl = await ib.pnl();
    expect(pnl.account).toBe("DU1234567");
    const portfolio = await ib.portfolio();
    expect(portfolio.map((p) => p.symbol).sort()).toEqual(["AAPL", "MSFT"]);
    const open = await ib.openOrders();
    expect(open.map((o) => [o.orderId, o.remaining])).toEqual([[order.orderId, 6]]);
    const fills = await ib.fills();
    expect(fills.map((f) => f.quantity)).toEqual([4]);
    expect(fills[0]?.commission).toBeDefined();

    // And they stay live: a price move streams, P&L follows.
    let pnlUpdates = 0;
    ib.broker.on("pnl", () => pnlUpdates++);
    h.sim.setPrice("AAPL", 215);
    h.sim.refreshPnl();
    await until(() => ticker.last === 215, 2000, "a streamed update");
    await until(() => pnlUpdates > 0, 2000, "a P&L update");
    ticker.stop();
  });

  it("the day's fills from before this connection are history: in the state, announced neither when followed nor at a reconnect", async () => {
    await tradedThisMorning();

    // A read-only notebook's fill notifier: listening is what starts the download of the day's fills.
    const ib = await h.connect({ keepaliveMs: 200 });
    const announced: string[] = [];
    ib.on("fill", (f) => announced.push(f.execId));
    await until(() => ib.broker.fills.size === 1, 2000, "the day's executions in the state");
    await sleep(50);
    expect(announced).toEqual([]);
    await h.sim.restart({ downMs: 200 });
    await until(
      () => ib.state.state === "connected" && h.sent("reqExecutions", 2).length >= 3,
      4000,
      "the reconnect's downloads",
    );
    await sleep(100);
    expect(announced).toEqual([]); // a fill notifier must not report the morning's trade at the nightly restart
    expect(ib.broker.fills.size).toBe(1);
  });

  it("fills first followed while reconnecting are history too: the next session's download announces none", async () => {
    await tradedThisMorning();

    const ib = await h.connect({ keepaliveMs: 200 });
    const restarted = h.sim.restart({ downMs: 300 });
    await until(() => ib.state.state === "reconnecting", 2000, "the drop");
    // The notifier's cell runs while the gateway restarts: nothing is downloaded yet.
    const announced: string[] = [];
    ib.on("fill", (f) => announced.push(f.execId));
    await restarted;
    await until(() => ib.broker.fills.size === 1, 4000, "the day's executions after the reconnect");
    await h.flush(ib);
    expect(announced).toEqual([]);
    expect(h.sent("reqExecutions", 2)).toHaveLength(2); // the earlier kernel's, and this one's after the reconnect
  });

  it("orders first followed from a state listener at the reconnect are asked for once, and openOrders() gets its own answer", async () => {
    const earlier = await h.connect({ trading: true });
    const working = await earlier.buy("AAPL", 5, { limit: 100 });
    earlier.close();
    const asked = h.sent("reqOpenOrders", 2).length;

    const ib = await h.connect({ keepaliveMs: 200 });
    const seen: number[] = [];
    // A cell's handler that starts listening to orders once the connection is back: it runs when
    // the new session is connected, before the library has wired it.
    ib.on("state", (s) => {
      if (s.state === "connected" && s.reason === "reconnected") ib.on("order", (o) => seen.push(o.orderId));
    });
    await h.sim.restart({ downMs: 200 });
    await ib.ready(5000);
    await until(() => seen.includes(working.orderId), 2000, "the working order's download");
    await h.flush(ib);
    expect(h.sent("reqOpenOrders", 2).length - asked).toBe(1);
    const open = await ib.openOrders();
    expect(open.map((o) => o.orderId)).toContain(working.orderId);
  });

  it("a fill of a trade placed here is news, even when the day's history never finished downloading", async () => {
    h.sim.setPrice("AAPL", 200);
    // The first connection never gets the end of its executions download (execDetailsEnd, id 55).
    holdExecutionFrames(["55"]);
    const ib = await h.connect({ trading: true, keepaliveMs: 200 });
    const announced: string[] = [];
    const commissions: string[] = [];
    ib.on("fill", (f) => announced.push(f.execId));
    ib.on("commission", (f) => commissions.push(f.execId));
    const trade = await ib.buy("AAPL", 10, { limit: 150 });
    const restarted = h.sim.restart({ downMs: 300 });
    await until(() => ib.state.state === "reconnecting", 2000, "the drop");
    const fill = h.sim.fillOrder(2, trade.orderId, { price: 150 });
    await restarted;
    await until(
      () => trade.fills.length === 1 && commissions.length === 1,
      4000,
      "the fill and its commission",
    );
    expect(announced).toEqual([fill.execution.execId]);
    expect(commissions).toEqual([fill.execution.execId]);
  });

  it("a trade taken over with cancelOrder() before the day's history arrived gets its earlier fills, not announced", async () => {
    const { order: working, fill: partial } = await tradedThisMorning(4);

    // A restarted kernel, same client id, on a busy day: the executions download comes late.
    const release = holdExecutionFrames(["11", "55", "59"]);
    const ib = await h.connect({ trading: true });
    const announced: string[] = [];
    const commissions: string[] = [];
    ib.on("fill", (f) => announced.push(f.execId));
    ib.on("commission", (f) => commissions.push(f.execId));
    await ib.openOrders();
    const taken = await ib.cancelOrder(working.orderId);
    const tradeFills: string[] = [];
    taken?.on("fill", (f) => tradeFills.push(f.execId));
    release();
    await until(() => taken?.fills.length === 1, 2000, "the earlier fill on the trade");
    expect(taken?.fills.map((f) => f.execId)).toEqual([partial.execution.execId]);
    await h.flush(ib);
    expect(announced).toEqual([]);
    expect(commissions).toEqual([]);
    expect(tradeFills).toEqual([]);
  });

  it("asked from a state listener at the reconnect, positions() and openOrders() get the new session's answers", async () => {
    const earlier = await h.connect({ trading: true });
    const working = await earlier.buy("AAPL", 5, { limit: 100 });
    earlier.close();

    const ib = await h.connect({ keepaliveMs: 200 });
    let positions: Promise<string[]> | undefined;
    let orders: Promise<number[]> | undefined;
    ib.on("state", (s) => {
      if (s.state !== "connected" || s.reason !== "reconnected") return;
      positions = ib.positions().then((rows) => rows.map((p) => p.symbol));
      orders = ib.openOrders().then((rows) => rows.map((o) => o.orderId));
    });
    await h.sim.restart({ downMs: 200 });
    await until(() => positions !== undefined, 4000, "the reconnect");
    await expect(positions).resolves.toEqual(["MSFT"]);
    await expect(orders).resolves.toEqual([working.orderId]);
  });

  it("order ids are never reused after a reconnect, even when TWS's next valid id is lower", async () => {
    const ib = await h.connect({ trading: true, keepaliveMs: 200 });
    const a = await ib.buy("AAPL", 1, { limit: 100 });
    // Rejected before booking (off the tick grid): TWS's own next id does not move past it.
    await expect(ib.buy("AAPL", 1, { limit: 100.005 })).rejects.toMatchObject({ code: 110 });
    const rejectedId = a.orderId + 1;
    expect(h.sim.exchange.nextOrderId).toBe(rejectedId);
    await h.sim.restart({ downMs: 200 });
    await ib.ready(5000);
    const c = await ib.buy("AAPL", 1, { limit: 100 });
    expect(c.orderId).toBe(rejectedId + 1);
    const ids = h.sent("placeOrder", 2).map((r) => r.orderId);
    expect(ids).toEqual([a.orderId, rejectedId, c.orderId]);
  });

  it.each([250, 1100])("reconnects soon after a restart with the gateway down %i ms", async (downMs) => {
    const ib = await h.connect();
    const states = recordStates(ib);
    await h.sim.restart({ downMs });
    const backAt = performance.now();
    await ib.ready(5000);
    const reconnectMs = performance.now() - backAt;
    measured.push(
      `restart (down ${downMs} ms): reconnected ${reconnectMs.toFixed(0)} ms after the gateway came back`,
    );
    expect(reconnectMs).toBeLessThan(1100);
    expect(path(states)).toEqual(["reconnecting", "connected"]);
    // Each failed attempt while down said so, with its number (the backoff grows).
    const attempts = states.filter((s) => /attempt \d+/.test(s.reason));
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    await expect(ib.positions()).resolves.toHaveLength(1);
  });

  it("an order sent into a half-open socket is never resent on the next session", async () => {
    const ib = await h.connect({ trading: true, keepaliveMs: 100 });
    h.sim.halfOpen();
    const pending = ib.buy("AAPL", 5, { limit: 100 });
    pending.catch(() => {}); // TWS never acknowledges it; the library times it out later
    await until(() => ib.state.state === "reconnecting", 2000, "the keepalive to notice");
    await ib.ready(3000);
    await h.flush(ib);
    expect(h.sent("placeOrder")).toEqual([]); // the frozen gateway read nothing, and nothing was replayed
    expect(ib.allTrades).toHaveLength(1);
    expect(ib.allTrades[0]?.status).toBe("Inactive"); // TWS never had it: after the reconnect the trade says so
    expect(ib.allTrades[0]?.error?.what).toMatch(/never reached TWS/);
    const next = await ib.buy("AAPL", 1, { limit: 100 });
    expect(next.orderId).toBeGreaterThan(ib.allTrades[0]?.orderId ?? Number.POSITIVE_INFINITY);
    expect(h.sent("placeOrder").map((r) => r.orderId)).toEqual([next.orderId]);
  });

  it("with reconnect: false the connection ends disconnected and nothing retries", async () => {
    const ib = await h.connect({ reconnect: false });
    const states = recordStates(ib);
    const restarting = h.sim.restart({ downMs: 200 });
    await until(() => ib.state.state === "disconnected", 2000, "the drop");
    await restarting;
    const connections = h.connections;
    await sleep(400);
    expect(h.connections).toBe(connections);
    expect(path(states)).toEqual(["disconnected"]);
    expect(states[0]?.reason).toMatch(/socket closed|ECONNRESET/);
    await expect(ib.ready(100)).rejects.toBeInstanceOf(NotConnectedError);
  });

  it("close() while reconnecting stops the attempts", async () => {
    const ib = await h.connect();
    const restarting = h.sim.restart({ downMs: 400 });
    await until(() => ib.state.state === "reconnecting", 2000, "the drop");
    ib.close();
    await restarting;
    const connections = h.connections;
    await sleep(1200); // longer than the longest backoff step
    expect(h.connections).toBe(connections);
    expect(ib.state.state).toBe("disconnected");
    expect(ib.state.reason).toBe("closed by user");
  });

  it("close() during a reconnect's handshake ends it: nothing of that session is heard after", async () => {
    const ib = await h.connect();
    let closed = false;
    const afterClose: string[] = [];
    ib.on("closed", () => (closed = true));
    ib.on("notice", (n) => closed && afterClose.push(`notice ${n.code}`));
    ib.on("warning", (e) => closed && afterClose.push(`warning ${e.message}`));
    ib.on("state", (s) => closed && afterClose.push(`state ${s.state}`));
    const restarting = h.sim.restart({ downMs: 50 });
    await until(() => ib.state.state === "reconnecting", 2000, "the drop");
    await restarting;
    h.sim.setLatency(300); // the reconnect's handshake takes ~600 ms
    const before = h.connections;
    await until(() => h.connections > before, 3000, "the reconnect attempt's socket");
    ib.close();
    await sleep(1000); // past the greet (and its farm notices) the handshake would have had
    expect(afterClose).toEqual([]);
    expect(ib.state.state).toBe("disconnected");
    expect(ib.state.reason).toBe("closed by user");
  });
});

describe("IB ↔ TWS connectivity (1100 / 1101 / 1102)", () => {
  it("1100 marks the connection stale with IB's reason; 1102 restores it", async () => {
    const ib = await h.connect();
    const states = recordStates(ib);
    const notices: number[] = [];
    ib.on("notice", (n) => notices.push(n.code));
    h.sim.connectivityLost();
    await until(() => ib.state.state === "stale", 2000, "1100");
    expect(ib.state.reason).toMatch(/1100/);
    h.sim.connectivityRestored();
    await until(() => ib.state.state === "connected", 2000, "1102");
    expect(path(states)).toEqual(["stale", "connected"]);
    expect(notices).toEqual(expect.arrayContaining([1100, 1102]));
    expect(h.sim.clients()).toHaveLength(1); // the socket stayed up: no reconnect
  });

  it("1101 (data lost) re-subscribes market data", async () => {
    const ib = await h.connect();
    const ticker = ib.ticker("KO");
    await until(() => ticker.last !== undefined, 2000, "the first quote");
    h.sim.connectivityLost();
    h.sim.connectivityRestored({ dataLost: true });
    await until(() => h.sent("reqMktData", 2).length === 2, 2000, "the re-subscription");
    h.sim.setPrice("KO", 70);
    await until(() => ticker.last === 70, 2000, "a quote on the new subscription");
    ticker.stop();
  });
});

it("reports the measured times", () => {
  console.log(`reconnect measurements:\n  ${measured.join("\n  ")}`);
  expect(measured.length).toBeGreaterThan(0);
});
