/**
 * monitor(): the extension's monitor kernel entry. Its own client id, every client's orders, and
 * the feed running.
 */
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { connect, type IB } from "../../src";
import { type Monitor, monitor } from "../../src/feed/monitor";
import type { FeedPayload } from "../../src/feed/payload";
import { FEED_MIME_TYPE } from "../../src/feed/payload";
import { loadScenario, TwsSimulator, Universe } from "../../src/simulator";
import { type FakeTslab, installFakeTslab } from "../display/fake-tslab";
import { sleep } from "../support/ib-client";

const DEMO_ACCOUNT = fileURLToPath(new URL("../../../notebooks/demo-account.json", import.meta.url));

let sim: TwsSimulator;
let mon: Monitor | undefined;
let trader: IB | undefined;

let kernel: FakeTslab | undefined;

afterEach(async () => {
  kernel?.uninstall();
  kernel = undefined;
  mon?.stop();
  trader?.close();
  await sim?.close();
});

describe("monitor", () => {
  it("in a tslab kernel publishes one feed, and no connection card", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, accountUpdateIntervalMs: 0 });
    kernel = installFakeTslab();
    mon = await monitor({ port: sim.port, ordersRefreshMs: 100 });
    trader = await connect({ port: sim.port, clientId: 2, trading: true });
    const trade = await trader.buy("AAPL", 3, { limit: 100 });
    await sleep(500);
    // The trader's connect() in this same fake kernel publishes too: keep the monitor's (client 3).
    const feed = kernel.messages
      .map((m) => m.data[FEED_MIME_TYPE] as FeedPayload | undefined)
      .filter((p): p is FeedPayload => p?.source.clientId === 3);
    expect(feed.length).toBeGreaterThan(1);
    // One feed: each snapshot once, numbered 1, 2, 3 …
    expect(feed.map((p) => p.seq)).toEqual(feed.map((_, i) => i + 1));
    expect(feed.at(-1)?.orders).toContainEqual(
      expect.objectContaining({ orderId: trade.orderId, clientId: 2, status: "Submitted" }),
    );
    // One connection card: the trader's connect() showed it; the monitor shows none.
    expect(kernel.messages.filter((m) => m.msgType === "display_data")).toHaveLength(1);
  });

  it("takes its snapshot cap from feedMaxPerSecond like connect()'s feed", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, accountUpdateIntervalMs: 0 });
    const payloads: FeedPayload[] = [];
    mon = await monitor({ port: sim.port, feedMaxPerSecond: 2, publish: (p) => payloads.push(p) });
    await sleep(600); // the start-up's snapshots out, the feed quiet
    // The account's P&L changes every 50 ms for 1.2 s.
    const first = payloads.length;
    const account = mon.ib.accounts[0] as string;
    for (let i = 0; i < 24; i++) {
      mon.ib.broker.setPnl({ account, dailyPnl: i, unrealizedPnl: i, realizedPnl: 0 });
      await sleep(50);
    }
    // 2 a second: the first at once, then one per 500 ms, so 3 (4 at most); at the default 4 a second, 5 or more.
    expect(payloads.length - first).toBeGreaterThanOrEqual(2);
    expect(payloads.length - first).toBeLessThanOrEqual(4);
  });

  it("connects as client 3 and shows orders another client places, with account values", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, accountUpdateIntervalMs: 0 });
    const payloads: FeedPayload[] = [];
    mon = await monitor({ port: sim.port, ordersRefreshMs: 100, publish: (p) => payloads.push(p) });
    expect(mon.ib.clientId).toBe(3);
    trader = await connect({ port: sim.port, clientId: 2, trading: true });
    const trade = await trader.buy("AAPL", 3, { limit: 100 });
    await sleep(500);
    const last = payloads.at(-1) as FeedPayload;
    expect(last.source.clientId).toBe(3);
    expect(last.orders).toContainEqual(
      expect.objectContaining({ orderId: trade.orderId, clientId: 2, status: "Submitted" }),
    );
    expect(last.account[0]?.netLiquidation).toBeGreaterThan(0);
    expect(last.connection.trading).toBe(false);
  });

  it("gives the largest positions their daily P&L (dailyPnlPositions), the others none", async () => {
    const scenario = loadScenario(DEMO_ACCOUNT, new Universe());
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, accountUpdateIntervalMs: 0, scenario });
    const payloads: FeedPayload[] = [];
    mon = await monitor({ port: sim.port, dailyPnlPositions: 2, publish: (p) => payloads.push(p) });
    await sleep(300);
    const positions = (payloads.at(-1) as FeedPayload).positions;
    expect(positions.length).toBeGreaterThan(2);
    const withDaily = positions.filter((p) => p.dailyPnl !== null);
    const byCost = [...positions].sort(
      (a, b) => Math.abs(b.quantity * b.avgCost) - Math.abs(a.quantity * a.avgCost),
    );
    expect(withDaily.map((p) => p.symbol).sort()).toEqual(
      byCost
        .slice(0, 2)
        .map((p) => p.symbol)
        .sort(),
    );
    for (const p of withDaily) expect(Number.isFinite(p.dailyPnl)).toBe(true);
  });

  it("refuses to start without a place to publish outside a notebook", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0 });
    await expect(monitor({ port: sim.port })).rejects.toThrow(/publish/);
    expect(sim.clients()).toHaveLength(0);
  });
});
