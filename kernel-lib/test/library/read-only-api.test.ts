/**
 * TWS with its "Read-Only API" setting ticked (a fresh install's default): TWS refuses to list,
 * place or cancel orders (321), and a listing's refusal carries no request id. The library must still
 * connect, serve positions and quotes, fail each order request at once with what to untick, not take
 * the missing order list for "every order is gone" after a reconnect, and work again as soon as the
 * setting is unticked, on the same connection.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import { IbkrError, NotConnectedError, ReadOnlyApiError } from "../../src/errors";
import type { FeedPayload } from "../../src/feed/payload";
import { StateFeed } from "../../src/feed/state-feed";
import type { IB } from "../../src/ib";
import { orderKey } from "../../src/state/broker-state";
import { Harness, rejection, scenario, until } from "./helpers";

const ACCOUNT = "DU5550001";
const h = new Harness();
let ib: IB;
let warnings: IbkrError[];

beforeEach(async () => {
  await h.start({
    scenario: scenario({
      accounts: [
        { id: ACCOUNT, cash: 1_000_000, positions: [{ contract: "MSFT", quantity: 50, avgCost: 300 }] },
      ],
      prices: { AAPL: 200, MSFT: 400 },
    }),
  });
  warnings = [];
});
afterEach(() => h.stop());

async function connectTrading(): Promise<IB> {
  ib = await h.connect({ trading: true });
  ib.on("warning", (w) => {
    if (w instanceof IbkrError) warnings.push(w);
  });
  return ib;
}

it("connects, serves positions and quotes, and says once that TWS is Read-Only", async () => {
  h.sim.setReadOnlyApi(true);
  await connectTrading();
  expect((await ib.positions()).map((p) => [p.contract.symbol, p.quantity])).toEqual([["MSFT", 50]]);
  expect((await ib.quote("AAPL")).last).toBe(200);
  // The connection's own download of open orders was refused: the flag says so.
  await until(() => ib.readOnlyApi, 2000, "the Read-Only flag");
  const listing = await rejection(ib.openOrders());
  expect(listing).toBeInstanceOf(ReadOnlyApiError);
  expect((listing as ReadOnlyApiError).todo).toMatch(/untick "Read-Only API"/);
  await rejection(ib.openOrders());
  // Said once (a warning), not once per refusal.
  expect(warnings.filter((w) => w instanceof ReadOnlyApiError)).toHaveLength(1);
});

it("an order is refused with what to untick, nothing is left working, and the refusal is quick", async () => {
  await connectTrading();
  h.sim.setReadOnlyApi(true);
  const started = performance.now();
  const error = await rejection(ib.buy("AAPL", 10, { limit: 190 }));
  expect(performance.now() - started).toBeLessThan(1000);
  expect(error).toBeInstanceOf(ReadOnlyApiError);
  expect(String(error)).toMatch(/refused order \d+: its API is in Read-Only mode/);
  const [trade] = ib.allTrades;
  expect(trade?.status).toBe("Inactive");
  expect(h.sim.exchange.working()).toEqual([]);
  expect(ib.readOnlyApi).toBe(true);
});

it("a cancel is refused as Read-Only and the order keeps working", async () => {
  await connectTrading();
  const trade = await ib.buy("AAPL", 10, { limit: 190 });
  h.sim.setReadOnlyApi(true);
  const error = await rejection(ib.cancelOrder(trade.orderId));
  expect(error).toBeInstanceOf(ReadOnlyApiError);
  expect((error as ReadOnlyApiError).what).toMatch(/refused the cancel of order \d+ \(it is still working\)/);
  expect(h.sim.order(2, trade.orderId)?.status).toBe("Submitted");
  // The trade did not fail: only its cancel was refused.
  expect(trade.status).toBe("Submitted");
  expect(trade.error).toBeUndefined();
});

it("cancelAll is refused as Read-Only instead of resolving as if done; nothing is cancelled", async () => {
  await connectTrading();
  const trade = await ib.buy("AAPL", 10, { limit: 190 });
  h.sim.setReadOnlyApi(true);
  const error = await rejection(ib.cancelAll());
  expect(error).toBeInstanceOf(ReadOnlyApiError);
  expect((error as ReadOnlyApiError).what).toMatch(/refused the global cancel \(cancelAll\)/);
  await h.flush(ib);
  expect(h.sent("reqGlobalCancel")).toEqual([]);
  expect(h.sim.order(2, trade.orderId)?.status).toBe("Submitted");
  h.sim.setReadOnlyApi(false);
  await ib.cancelAll();
  await until(() => trade.status === "Cancelled", 2000, "the cancel once unticked");
});

it("a reconnect while Read-Only keeps the working orders it cannot list (they are not taken as gone)", async () => {
  await connectTrading();
  const trade = await ib.buy("AAPL", 10, { limit: 190 });
  h.sim.setReadOnlyApi(true);
  const flags: boolean[] = [];
  ib.on("readOnlyApi", (readOnly) => flags.push(readOnly));
  await rejection(ib.openOrders());
  await h.sim.restart({ downMs: 50 });
  await ib.ready(3000);
  await until(() => h.sent("reqOpenOrders").length === 2, 2000, "the download after the reconnect");
  await h.flush(ib);
  await ib.positions();
  // Still Read-Only, said once: the reconnect does not reset what TWS said.
  expect(ib.readOnlyApi).toBe(true);
  expect(flags).toEqual([true]);
  expect(warnings.filter((w) => w instanceof ReadOnlyApiError)).toHaveLength(1);
  expect(trade.status).toBe("Submitted");
  expect(ib.broker.orders.get(orderKey(2, trade.orderId, 0))?.status).toBe("Submitted");
  // Unticked: the next listing shows the order, and the fill still reaches the trade.
  h.sim.setReadOnlyApi(false);
  expect((await ib.openOrders()).map((o) => o.orderId)).toEqual([trade.orderId]);
  expect(ib.readOnlyApi).toBe(false);
  h.sim.fillOrder(2, trade.orderId);
  await until(() => trade.status === "Filled", 2000, "the fill");
});

it("an order that ended while the library was away and TWS Read-Only is checked at the first listing after unticking", async () => {
  await connectTrading();
  const kept = await ib.buy("AAPL", 10, { limit: 190 });
  const ended = await ib.buy("AAPL", 5, { limit: 185 });
  h.sim.setReadOnlyApi(true);
  const restarting = h.sim.restart({ downMs: 100 });
  h.sim.cancelOrder(2, ended.orderId); // in TWS, while the library is away
  await restarting;
  await ib.ready(3000);
  await until(() => h.sent("reqOpenOrders").length === 2, 2000, "the refused download");
  await h.flush(ib);
  expect(ended.status).toBe("Submitted"); // not known yet: TWS would not list orders
  h.sim.setReadOnlyApi(false);
  expect((await ib.openOrders()).map((o) => o.orderId)).toEqual([kept.orderId]);
  expect(ended.status).toBe("Inactive");
  expect(kept.status).toBe("Submitted");
});

it("close() fails a listing in flight at once, not after the request timeout", async () => {
  await connectTrading();
  h.sim.setLatency(2000);
  const pending = rejection(ib.openOrders());
  await until(() => h.sent("reqAllOpenOrders").length === 1, 1000, "the listing to reach the simulator");
  const started = performance.now();
  ib.close("test");
  expect(await pending).toBeInstanceOf(NotConnectedError);
  expect(performance.now() - started).toBeLessThan(500);
  h.sim.setLatency(0);
});

it("client 0: the refused download does not take the answer to the next listing (auto-binding waits for a listing)", async () => {
  h.sim.setReadOnlyApi(true);
  h.sim.setLatency(150);
  ib = await h.connect({ clientId: 0 });
  await until(() => h.sent("reqOpenOrders", 0).length === 1, 1000, "the download to reach the simulator");
  h.sim.setReadOnlyApi(false);
  // The download's refusal is still on its way; this listing is answered in full.
  expect(await ib.openOrders()).toEqual([]);
  await until(() => h.sent("reqAutoOpenOrders", 0).length === 1, 1000, "auto-binding once TWS listed orders");
  h.sim.setLatency(0);
});

it("unticking the setting is enough: the next requests work on the same connection; the feed tells the panels", async () => {
  h.sim.setReadOnlyApi(true);
  await connectTrading();
  const snapshots: FeedPayload[] = [];
  const feed = new StateFeed(ib, (p) => snapshots.push(p), { maxPerSecond: 100 }).start();
  await until(() => ib.readOnlyApi, 2000, "the Read-Only flag");
  await until(() => snapshots.at(-1)?.connection.readOnlyApi === true, 1000, "a snapshot saying Read-Only");
  h.sim.setReadOnlyApi(false);
  const connectionsBefore = h.connections;
  expect(await ib.openOrders()).toEqual([]);
  const trade = await ib.buy("AAPL", 5, { limit: 190 });
  expect(trade.status).toBe("Submitted");
  expect(ib.readOnlyApi).toBe(false);
  expect(h.connections).toBe(connectionsBefore);
  await until(
    () => snapshots.at(-1)?.connection.readOnlyApi === false,
    1000,
    "a snapshot saying it no longer is",
  );
  feed.stop();
});
