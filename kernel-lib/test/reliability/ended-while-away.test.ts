/**
 * Orders that end while the library is away. TWS lists only working orders after a reconnect, so an
 * order cancelled in TWS (or expired) during a restart is simply absent: the library must not show
 * it as working for ever. Found by the restart storm; each case here on its own.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import { takeSnapshot } from "../../src/feed/state-feed";
import { Harness, scenario } from "../library/helpers";

const h = new Harness();
beforeEach(async () => {
  await h.start({ scenario: scenario({ accounts: [{ id: "DU7200001", cash: 1_000_000, positions: [] }] }) });
  h.sim.setPrice("AAPL", 200);
});
afterEach(() => h.stop());

it("an order cancelled, or part-filled then cancelled, in TWS during a restart ends Inactive; the others are exact", async () => {
  const ib = await h.connect({ trading: true });
  const cancelled = await ib.buy("AAPL", 5, { limit: 150 });
  const partly = await ib.buy("AAPL", 10, { limit: 151 });
  const filled = await ib.buy("AAPL", 3, { limit: 152 });
  const working = await ib.buy("AAPL", 4, { limit: 153 });
  const done = Promise.all([cancelled.done(5000), partly.done(5000)]);

  const restarting = h.sim.restart({ downMs: 150 });
  h.sim.cancelOrder(2, cancelled.orderId);
  h.sim.fillOrder(2, partly.orderId, { quantity: 4, price: 151 });
  h.sim.cancelOrder(2, partly.orderId);
  h.sim.fillOrder(2, filled.orderId, { price: 152 });
  await restarting;
  await ib.ready(3000);
  await done; // the trades end, so code awaiting them goes on
  await h.flush(ib);

  expect([cancelled.status, cancelled.filled, cancelled.remaining]).toEqual(["Inactive", 0, 0]);
  expect([partly.status, partly.filled, partly.remaining]).toEqual(["Inactive", 4, 0]);
  expect(partly.fills.map((f) => f.quantity)).toEqual([4]);
  expect([filled.status, filled.filled]).toEqual(["Filled", 3]);
  expect([working.status, working.remaining]).toEqual(["Submitted", 4]);
  // The panels' feed no longer lists the ended orders as working.
  const open = takeSnapshot(ib, 1)
    .orders.filter((o) => o.status === "Submitted")
    .map((o) => o.orderId);
  expect(open).toEqual([working.orderId]);
  expect((await ib.openOrders()).map((o) => o.orderId)).toEqual([working.orderId]);
});

it("a reconnect with nothing ended changes no order", async () => {
  const ib = await h.connect({ trading: true });
  const a = await ib.buy("AAPL", 5, { limit: 150 });
  const statuses: string[] = [];
  a.on("status", (t) => statuses.push(t.status));
  await h.sim.restart({ downMs: 50 });
  await ib.ready(3000);
  await h.flush(ib);
  expect(a.status).toBe("Submitted");
  expect(statuses.every((s) => s === "Submitted")).toBe(true);
});
