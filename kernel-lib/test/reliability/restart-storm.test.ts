/**
 * Restart storm: 100 gateway restarts at random points (seeded; STORM_SEED=<n> replays the same
 * decisions) while the library holds working orders, fills arrive live and while it is away,
 * orders are cancelled in TWS (also while it is away), prices move and a ticker streams. Some restarts come while the library is still reconnecting or
 * downloading. Afterwards nothing is lost or doubled: every execution the simulator made for this
 * client reached the library exactly once, no order was sent twice or under a reused id, every
 * subscription streams again, and the library's state (and the feed the panels read) equals the
 * simulator's. Reconnect times after the gateway is back are printed (aim: p99 under 1 s).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { ProtocolError } from "../../src/errors";
import { takeSnapshot } from "../../src/feed/state-feed";
import type { IB } from "../../src/ib";
import type { Trade } from "../../src/orders/trade";
import { seededRandom } from "../../src/simulator/model/market";
import type { Fill } from "../../src/state/types";
import { Harness, scenario, sleep, until } from "../library/helpers";

const RESTARTS = 100;
const CLIENT_ID = 2;
const ACCOUNT = "DU7000001";
const SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN"] as const;
const START_PRICE: Record<(typeof SYMBOLS)[number], number> = { AAPL: 200, MSFT: 400, NVDA: 120, AMZN: 180 };

const seed = Number(process.env.STORM_SEED ?? Math.floor(Math.random() * 2 ** 31));
const random = seededRandom(seed);
const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
const cents = (n: number) => Math.round(n * 100) / 100;

const h = new Harness();
let ib: IB;

beforeAll(async () => {
  await h.start({
    scenario: scenario({
      accounts: [
        {
          id: ACCOUNT,
          cash: 10_000_000,
          positions: [
            { contract: "MSFT", quantity: 50, avgCost: 380 },
            { contract: "KO", quantity: 100, avgCost: 60 },
          ],
        },
      ],
    }),
  });
  for (const symbol of SYMBOLS) h.sim.setPrice(symbol, START_PRICE[symbol]);
  ib = await h.connect({ trading: true, clientId: CLIENT_ID });
});
afterAll(() => h.stop());

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = sorted[Math.floor(position)] as number;
  const upper = sorted[Math.ceil(position)] as number;
  return lower + (upper - lower) * (position - Math.floor(position));
}

/** This client's orders the simulator is still working. */
const workingOrders = () => h.sim.exchange.working().filter((o) => o.clientId === CLIENT_ID);

it(`${RESTARTS} restarts at random points: nothing lost, nothing doubled, state equals the simulator's`, {
  timeout: 55_000,
}, async () => {
  console.log(`restart storm: seed ${seed} (STORM_SEED=${seed} replays its decisions)`);
  const started = performance.now();
  const sim = h.sim;

  // Every fill a trade announced, by execId: each must come exactly once.
  const tradeFillEvents = new Map<string, number>();
  const watched = new Set<Trade>();
  const watch = () => {
    for (const trade of ib.allTrades) {
      if (watched.has(trade)) continue;
      watched.add(trade);
      trade.on("fill", (fill: Fill) =>
        tradeFillEvents.set(fill.execId, (tradeFillEvents.get(fill.execId) ?? 0) + 1),
      );
    }
  };

  // Reconnect time: from the gateway listening again to the library connected, when no other
  // restart came in between.
  const reconnectMs: number[] = [];
  let backAt: number | undefined;
  sim.on("restarted", () => {
    backAt = performance.now();
  });
  ib.on("state", (status) => {
    if (status.state === "connected" && backAt !== undefined) {
      reconnectMs.push(performance.now() - backAt);
      backAt = undefined;
    }
  });

  // Malformed-message warnings (a restart can cut a message in half): printed, and shown on failure.
  const protocolWarnings: string[] = [];
  ib.on("warning", (warning) => {
    if (warning instanceof ProtocolError) protocolWarnings.push(warning.what);
  });

  const ticker = ib.ticker("AAPL");
  await until(() => ticker.last === START_PRICE.AAPL, 2000, "the ticker's first quote");

  let orderAttempts = 0;
  let refusedWhileDown = 0;
  const placeOrder = () => {
    const symbol = pick(SYMBOLS);
    const last = sim.market.quote(sim.universe.get(symbol)?.details.contract.conId ?? 0).last;
    const side = random() < 0.6 ? "BUY" : "SELL";
    // Away from the market, so that it works until a price move or a fill reaches it.
    const away = cents(last * (0.002 + random() * 0.01));
    const limit = cents(side === "BUY" ? last - away : last + away);
    orderAttempts++;
    const placed =
      side === "BUY" ? ib.buy(symbol, int(1, 30), { limit }) : ib.sell(symbol, int(1, 30), { limit });
    const settled = placed.then(watch, (error: Error) => {
      if (error.name === "NotConnectedError") refusedWhileDown++;
    });
    watch();
    return settled;
  };
  const fillSome = () => {
    const order = pick(workingOrders());
    if (!order) return;
    const left = order.totalQuantity - order.filled;
    sim.fillOrder(CLIENT_ID, order.orderId, { quantity: random() < 0.5 ? left : int(1, left) });
  };
  /** Cancels a working order as from TWS (a user in TWS, or the order expiring). */
  let cancelledWhileDown = 0;
  const cancelSome = (down: boolean) => {
    const order = pick(workingOrders());
    if (!order) return;
    sim.cancelOrder(CLIENT_ID, order.orderId);
    if (down) cancelledWhileDown++;
  };
  const movePrice = () => {
    const symbol = pick(SYMBOLS);
    const last = sim.market.quote(sim.universe.get(symbol)?.details.contract.conId ?? 0).last;
    // Drifts back toward the start so the walk stays near the working orders.
    const target = START_PRICE[symbol] + (random() - 0.5) * START_PRICE[symbol] * 0.03;
    sim.setPrice(symbol, cents((last + target) / 2));
    if (random() < 0.3) sim.step();
  };
  const act = async () => {
    const r = random();
    if (r < 0.45) {
      if (ib.state.state !== "connected") return;
      const acknowledged = placeOrder();
      // Mostly wait for TWS's acknowledgement (requests are paced, 4 per 100 ms); sometimes restart
      // with the order still queued or on the wire.
      if (random() < 0.8) await Promise.race([acknowledged, sleep(400)]);
    } else if (r < 0.7) fillSome();
    else if (r < 0.75) cancelSome(false);
    else movePrice();
  };

  let quickRestarts = 0;
  let fillsWhileDown = 0;
  for (let i = 0; i < RESTARTS; i++) {
    // A little trading and market activity, at random moments.
    for (let n = int(0, 4); n > 0; n--) {
      await act();
      await sleep(int(0, 15));
    }
    const restarting = sim.restart({ downMs: int(0, 150) });
    backAt = undefined;
    // While the gateway is down, orders fill and prices move: the library hears of it afterwards.
    await sleep(int(0, 10));
    for (let n = int(0, 2); n > 0; n--) {
      const before = sim.exchange.executions.length;
      const r = random();
      if (r < 0.5) fillSome();
      else if (r < 0.6) cancelSome(true);
      else movePrice();
      fillsWhileDown += sim.exchange.executions.length - before;
    }
    await restarting;
    if (random() < 0.25) {
      // The next restart soon after the gateway is back: mid-reconnect or mid-download.
      quickRestarts++;
      await sleep(int(0, 40));
    } else {
      await ib.ready(5000);
    }
  }

  // The dust settles: connected, the standing downloads done, everything sent has landed.
  await ib.ready(5000);
  await ib.positions();
  await h.flush(ib);
  watch();
  const mine = () => sim.exchange.executions.filter((f) => f.order.clientId === CLIENT_ID);
  await until(
    () => mine().every((f) => ib.broker.fills.get(f.execution.execId)?.commission !== undefined),
    5000,
    "every execution (with its commission) in the library",
  );
  const storm = (performance.now() - started) / 1000;

  // ── every execution the simulator made for this client, reported exactly once ──
  const executions = mine();
  const simExecIds = executions.map((f) => f.execution.execId).sort();
  const libExecIds = [...ib.broker.fills.values()]
    .filter((f) => f.clientId === CLIENT_ID)
    .map((f) => f.execId)
    .sort();
  expect(libExecIds).toEqual(simExecIds);
  for (const f of executions) {
    const fill = ib.broker.fills.get(f.execution.execId);
    expect(fill).toMatchObject({
      orderId: f.order.orderId,
      quantity: f.execution.shares,
      price: f.execution.price,
      commission: f.commission.commission,
    });
  }
  // Each trade holds its own executions, once each, and announced each once.
  const tradeExecIds = ib.allTrades.flatMap((t) => t.fills.map((f) => f.execId)).sort();
  expect(tradeExecIds).toEqual(simExecIds);
  expect([...tradeFillEvents.keys()].sort()).toEqual(simExecIds);
  expect([...tradeFillEvents.values()].every((n) => n === 1)).toBe(true);

  // ── no order sent twice, no order id reused ──
  const placed = h.sent("placeOrder", CLIENT_ID).map((r) => r.orderId);
  expect(new Set(placed).size).toBe(placed.length);
  const tradeIds = ib.allTrades.map((t) => t.orderId);
  expect(new Set(tradeIds).size).toBe(tradeIds.length);
  expect(tradeIds).toEqual([...tradeIds].sort((a, b) => a - b));
  // What reached the gateway is what the library placed; an order lost with a dropped socket
  // before the gateway read it was not sent again.
  const simOrders = [...sim.exchange.orders.values()].filter((o) => o.clientId === CLIENT_ID);
  expect(simOrders.map((o) => o.orderId).sort((a, b) => a - b)).toEqual([...placed].sort((a, b) => a - b));
  const lostInFlight = ib.allTrades.filter((t) => !placed.includes(t.orderId));
  for (const trade of lostInFlight) {
    // Never resent: after the next reconnect the trade ends Inactive, saying it never reached TWS.
    expect(trade.status).toBe("Inactive");
    expect(trade.error?.what).toMatch(/never reached TWS/);
  }

  // ── each trade, and the broker state, agree with the simulator's orders ──
  // An order cancelled while the library was away is not among the open orders afterwards, and TWS
  // says no more of it: the library marks it Inactive (no longer active), the rest exactly.
  const expectedStatus = (order: { status: string }, seen: string | undefined) =>
    order.status === "Cancelled" && seen === "Inactive" ? "Inactive" : order.status;
  for (const order of simOrders) {
    const trade = ib.allTrades.find((t) => t.orderId === order.orderId);
    expect(trade, `trade ${order.orderId}`).toBeDefined();
    expect({ id: order.orderId, status: trade?.status, filled: trade?.filled }).toEqual({
      id: order.orderId,
      status: expectedStatus(order, trade?.status),
      filled: order.filled,
    });
  }
  const retired = simOrders.filter(
    (o) =>
      o.status === "Cancelled" && ib.allTrades.find((t) => t.orderId === o.orderId)?.status === "Inactive",
  ).length;

  // ── positions: the library's, and the feed's, equal the simulator's book ──
  const truth = [...(sim.accounts.get(ACCOUNT)?.positions.values() ?? [])]
    .filter((p) => p.quantity !== 0)
    .map((p) => ({ conId: p.instrument.details.contract.conId, quantity: p.quantity, avgCost: p.avgCost }))
    .sort((a, b) => a.conId - b.conId);
  const closeTo = (rows: Array<{ conId: number; quantity: number; avgCost: number }>) =>
    rows.map((r) => ({ ...r, avgCost: Math.round(r.avgCost * 1e4) / 1e4 }));
  const libPositions = (await ib.positions())
    .map((p) => ({ conId: p.contract.conId ?? 0, quantity: p.quantity, avgCost: p.avgCost }))
    .sort((a, b) => a.conId - b.conId);
  expect(closeTo(libPositions)).toEqual(closeTo(truth));

  const snapshot = takeSnapshot(ib, 1);
  expect(snapshot.connection.state).toBe("connected");
  const feedPositions = snapshot.positions
    .map((p) => ({ conId: p.conId, quantity: p.quantity, avgCost: p.avgCost }))
    .sort((a, b) => a.conId - b.conId);
  expect(closeTo(feedPositions)).toEqual(closeTo(truth));

  // ── open orders: the feed's working orders are the simulator's, with the same fills ──
  const DONE = new Set(["Filled", "Cancelled", "ApiCancelled", "Inactive"]);
  const feedOpen = snapshot.orders
    .filter((o) => o.clientId === CLIENT_ID && !DONE.has(o.status))
    .map((o) => ({ orderId: o.orderId, status: o.status, filled: o.filled, remaining: o.remaining }))
    .sort((a, b) => a.orderId - b.orderId);
  const simOpen = workingOrders()
    .map((o) => ({
      orderId: o.orderId,
      status: o.status as string,
      filled: o.filled,
      remaining: o.totalQuantity - o.filled,
    }))
    .sort((a, b) => a.orderId - b.orderId);
  expect(feedOpen).toEqual(simOpen);
  for (const order of simOrders) {
    const fed = snapshot.orders.find((o) => o.clientId === CLIENT_ID && o.orderId === order.orderId);
    expect({ id: order.orderId, status: fed?.status, filled: fed?.filled }).toEqual({
      id: order.orderId,
      status: expectedStatus(order, fed?.status),
      filled: order.filled,
    });
  }

  // ── every subscription live again ──
  expect(ticker.isStopped).toBe(false);
  const finalPrice = cents(START_PRICE.AAPL * 1.05);
  sim.setPrice("AAPL", finalPrice);
  await until(
    () => ticker.last === finalPrice,
    2000,
    () => {
      const session = sim.clients().find((s) => s.clientId === CLIENT_ID);
      return `a ticker update after the last restart: ticker.last ${ticker.last}, library ${ib.state.state} (${ib.state.reason}), simulator session ${session?.state ?? "none"} with market data ${JSON.stringify([...(session?.marketData.keys() ?? [])])}, last reqMktData ids ${JSON.stringify(
        h
          .sent("reqMktData", CLIENT_ID)
          .slice(-3)
          .map((r) => r.reqId),
      )}, protocol warnings ${protocolWarnings.length}: ${protocolWarnings.slice(-3).join(" | ")}`;
    },
  );
  // A position that changes now is pushed to the library live (no new download).
  const positionRequests = h.sent("reqPositions", CLIENT_ID).length;
  const msft = sim.universe.get("MSFT")?.details.contract.conId;
  const trade = await ib.buy("MSFT", 7, { limit: cents(START_PRICE.MSFT * 0.9) });
  sim.fillOrder(CLIENT_ID, trade.orderId);
  const msftTruth = sim.accounts.get(ACCOUNT)?.positions.get(msft ?? 0)?.quantity;
  await until(
    () => ib.broker.positions.get(`${ACCOUNT}/${msft}`)?.quantity === msftTruth,
    2000,
    "a live position update after the last restart",
  );
  expect(h.sent("reqPositions", CLIENT_ID)).toHaveLength(positionRequests);
  await until(() => trade.status === "Filled", 2000, "the last trade to fill");

  // ── what happened, and how fast the library came back ──
  const sorted = [...reconnectMs].sort((a, b) => a - b);
  const p50 = quantile(sorted, 0.5);
  const p99 = quantile(sorted, 0.99);
  console.log(
    [
      `restart storm (seed ${seed}): ${RESTARTS} restarts in ${storm.toFixed(1)} s, ${quickRestarts} of them soon after the previous one`,
      `  orders: ${orderAttempts} asked, ${placed.length} reached the gateway, ${lostInFlight.length} lost with a dropped socket (never resent), ${refusedWhileDown} refused while reconnecting`,
      `  executions: ${executions.length} (${fillsWhileDown} while the gateway was down), each reported once`,
      `  cancelled in TWS: ${simOrders.filter((o) => o.status === "Cancelled").length} orders, ${cancelledWhileDown} while the gateway was down; ${retired} the library did not hear of live (down, reconnecting, or a socket about to drop) and found gone after a reconnect: Inactive`,
      `  sessions: ${h.connections} sockets accepted; working orders at the end: ${simOpen.length}; positions: ${truth.length}; messages cut off by a restart: ${protocolWarnings.length}`,
      `  reconnect after the gateway is back (n=${sorted.length}): p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${(sorted.at(-1) ?? Number.NaN).toFixed(0)} ms; aim p99 < 1000 ms: ${p99 < 1000 ? "met" : "NOT MET"}`,
    ].join("\n"),
  );
  expect(executions.length).toBeGreaterThan(20);
  expect(fillsWhileDown).toBeGreaterThan(0);
  expect(cancelledWhileDown).toBeGreaterThan(0);
  expect(sorted.length).toBeGreaterThan(RESTARTS / 2);
  // Backoff tops out at 1 s between attempts; with 2 cores shared by other test files, allow slack.
  expect(p99).toBeLessThan(1500);
});
