/**
 * The JupyterLab feed: snapshots of the broker state, the first at once, throttled under bursts,
 * always ending on the latest state.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect, type IB } from "../../src";
import { FEED_MIME_TYPE, type FeedPayload } from "../../src/feed/payload";
import { StateFeed } from "../../src/feed/state-feed";
import { parseScenario, TwsSimulator, Universe } from "../../src/simulator";
import { type FakeTslab, installFakeTslab } from "../display/fake-tslab";
import { sleep } from "../support/ib-client";

let sim: TwsSimulator;
let ib: IB;
let feed: StateFeed;
let kernel: FakeTslab | undefined;

const scenario = parseScenario(
  {
    accounts: [
      { id: "DU2000001", cash: 100_000, positions: [{ contract: "AAPL", quantity: 50, avgCost: 180 }] },
    ],
    openOrders: [
      {
        clientId: 2,
        orderId: 7,
        contract: "MSFT",
        action: "BUY",
        quantity: 5,
        orderType: "LMT",
        lmtPrice: 300,
      },
    ],
  },
  new Universe(),
);

afterEach(async () => {
  feed?.stop();
  ib?.close();
  await sim?.close();
  kernel?.uninstall();
  kernel = undefined;
});

describe("state feed", () => {
  it("publishes the current state at once: connection, source, positions, orders, accounts", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, scenario });
    ib = await connect({ port: sim.port, trading: true });
    await ib.positions();
    await ib.openOrders();
    const payloads: FeedPayload[] = [];
    feed = new StateFeed(ib, (p) => payloads.push(p)).start();
    expect(payloads).toHaveLength(1);
    const [first] = payloads as [FeedPayload];
    expect(FEED_MIME_TYPE).toBe("application/vnd.ibkr-notebook.state.v1+json");
    expect(first).toMatchObject({
      v: 1,
      seq: 1,
      source: {
        clientId: 2,
        host: "127.0.0.1",
        port: sim.port,
        broker: "ibkr-paper",
        accounts: ["DU2000001"],
        live: false,
      },
      connection: { state: "connected", serverVersion: 176, trading: true },
      positions: [{ account: "DU2000001", symbol: "AAPL", quantity: 50, avgCost: 180 }],
      orders: [
        {
          orderId: 7,
          clientId: 2,
          symbol: "MSFT",
          action: "BUY",
          quantity: 5,
          orderType: "LMT",
          lmtPrice: 300,
          status: "Submitted",
        },
      ],
      account: [{ account: "DU2000001" }],
    });
    expect(() => JSON.parse(JSON.stringify(first))).not.toThrow();
  });

  it("follows changes: a fill moves the position and the order, and the last snapshot is the truth", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, scenario });
    ib = await connect({ port: sim.port, trading: true });
    await ib.positions();
    const payloads: FeedPayload[] = [];
    feed = new StateFeed(ib, (p) => payloads.push(p)).start();
    const trade = await ib.buy("AAPL", 10);
    await trade.done(2000);
    await sleep(400);
    const last = payloads.at(-1) as FeedPayload;
    expect(last.positions.find((p) => p.symbol === "AAPL")?.quantity).toBe(60);
    expect(last.orders.find((o) => o.orderId === trade.orderId)).toMatchObject({
      status: "Filled",
      filled: 10,
      remaining: 0,
    });
    expect(payloads.map((p) => p.seq)).toEqual(payloads.map((_, i) => i + 1));
  });

  it("sends at most ~4 snapshots a second under a burst, the first change at once", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, scenario, accountUpdateIntervalMs: 0 });
    ib = await connect({ port: sim.port });
    await ib.portfolio();
    const times: number[] = [];
    feed = new StateFeed(ib, () => times.push(Date.now())).start();
    // Starting the feed starts the position and order downloads: their snapshot goes out a throttle
    // interval after the first, so the feed is quiet again after two.
    await sleep(600);
    const start = Date.now();
    times.length = 0;
    let firstChange = 0;
    ib.broker.once("accountValue", () => {
      firstChange = Date.now();
    });
    for (let i = 0; i < 40; i++) {
      sim.refreshAccounts(); // ~30 account values and a portfolio row each
      await sleep(25);
    }
    await sleep(300);
    expect(times.length).toBeGreaterThanOrEqual(3);
    expect(times.length).toBeLessThanOrEqual(Math.ceil(((Date.now() - start) / 1000) * 4) + 1);
    // The first change goes out in the same turn it arrives in, not after a throttle interval.
    expect((times[0] as number) - firstChange).toBeLessThan(20);
  });

  it("the first snapshot after a fill already shows the order's new filled quantity", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, scenario, accountUpdateIntervalMs: 0 });
    ib = await connect({ port: sim.port });
    const payloads: FeedPayload[] = [];
    feed = new StateFeed(ib, (p) => payloads.push(p)).start();
    await sleep(700); // the connection's first downloads published, and past the interval: the next change goes out at once
    payloads.length = 0;
    let filledAt = 0;
    ib.once("fill", () => {
      filledAt = Date.now();
    });
    sim.fillOrder(2, 7, { quantity: 2, price: 299 });
    await sleep(150); // well inside the 250 ms interval: only the first snapshot can be here
    const first = payloads[0] as FeedPayload;
    expect(first).toBeDefined();
    expect(first.orders.find((o) => o.orderId === 7)).toMatchObject({ filled: 2, remaining: 3 });
    expect(Date.parse(first.ts) - filledAt).toBeLessThan(50);
  });

  it("reports a dropped connection with its reason", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, scenario });
    ib = await connect({ port: sim.port });
    const payloads: FeedPayload[] = [];
    feed = new StateFeed(ib, (p) => payloads.push(p)).start();
    await sim.restart({ downMs: 300 });
    await sleep(1500);
    const states = payloads.map((p) => p.connection.state);
    expect(states).toContain("reconnecting");
    expect(states.at(-1)).toBe("connected");
    const reconnecting = payloads.find((p) => p.connection.state === "reconnecting");
    expect(reconnecting?.connection.reason).toMatch(/socket closed|Nothing is listening/);
  });

  it("sends the final state when stopped right after a change, e.g. disconnected on close()", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, scenario });
    ib = await connect({ port: sim.port });
    const payloads: FeedPayload[] = [];
    feed = new StateFeed(ib, (p) => payloads.push(p)).start();
    ib.on("state", () => {}); // the close below changes the state within the throttle interval
    ib.once("closed", () => feed.stop());
    ib.close();
    expect(payloads.at(-1)?.connection.state).toBe("disconnected");
  });
});

describe("the feed connect() starts in a notebook", () => {
  it("sends up to feedMaxPerSecond snapshots a second under a burst", async () => {
    kernel = installFakeTslab();
    const published = kernel.messages;
    const snapshots = () => published.filter((m) => FEED_MIME_TYPE in m.data).length;
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, scenario, accountUpdateIntervalMs: 0 });
    ib = await connect({ port: sim.port, feedMaxPerSecond: 20 });
    await ib.portfolio();
    await sleep(300);
    const before = snapshots();
    const start = Date.now();
    for (let i = 0; i < 40; i++) {
      sim.refreshAccounts(); // a change every 25 ms: more than 20 a second
      await sleep(25);
    }
    await sleep(100);
    const seconds = (Date.now() - start) / 1000;
    const sent = snapshots() - before;
    expect(sent).toBeGreaterThan(Math.ceil(seconds * 4) + 1); // more than the default 4/s allows
    expect(sent).toBeLessThanOrEqual(Math.ceil(seconds * 20) + 1);
  });
});
