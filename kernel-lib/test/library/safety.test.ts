/**
 * What can reach a live account (DESIGN "Safety"), each guard shown against the simulator with what
 * actually reached it: read-only by default, the paper/live account check, allowLive, and the live
 * order rate limit. Plus the guard's rules as a unit with an injected clock.
 */
import { afterEach, describe, expect, it } from "vitest";
import { TradingGuardError } from "../../src/errors";
import type { IB } from "../../src/ib";
import { isPaperAccount, TradingGuard } from "../../src/safety/guard";
import { Harness, rejection, scenario } from "./helpers";

const h = new Harness();
afterEach(() => h.stop());

const LIVE = scenario({ accounts: [{ id: "U1234567", cash: 100_000 }], prices: { AAPL: 200 } });
const PAPER = scenario({
  accounts: [{ id: "DU1234567", cash: 100_000 }],
  prices: { AAPL: 200 },
  openOrders: [
    {
      clientId: 2,
      orderId: 5,
      contract: "AAPL",
      action: "BUY",
      quantity: 1,
      orderType: "LMT",
      lmtPrice: 100,
    },
  ],
});

/** Everything that would change orders at the broker, tried in turn; returns the errors. */
async function tryEverything(ib: IB): Promise<unknown[]> {
  return [
    await rejection(ib.buy("AAPL", 1)),
    await rejection(ib.sell("AAPL", 1, { limit: 250 })),
    await rejection(ib.placeOrder("AAPL", { side: "BUY", quantity: 1, stop: 210 })),
    await rejection(ib.cancelAll()),
    await rejection(ib.cancelOrder(5)),
    await rejection(ib.whatIf("AAPL", { side: "BUY", quantity: 1 })),
  ];
}

async function nothingReachedTheGateway(ib: IB): Promise<void> {
  await h.flush(ib);
  expect(h.sent("placeOrder")).toEqual([]);
  expect(h.sent("cancelOrder")).toEqual([]);
  expect(h.sent("reqGlobalCancel")).toEqual([]);
}

describe("read-only by default", () => {
  it("every order method refuses without trading: true, and nothing reaches TWS", async () => {
    await h.start({ scenario: PAPER });
    const ib = await h.connect();
    const errors = await tryEverything(ib);
    for (const error of errors) {
      expect(error).toBeInstanceOf(TradingGuardError);
      expect((error as TradingGuardError).what).toContain("read-only");
      expect((error as TradingGuardError).todo).toContain("trading: true");
    }
    await nothingReachedTheGateway(ib);
    expect(ib.allTrades).toEqual([]);
    expect(h.sim.order(2, 5)?.status).toBe("Submitted"); // the earlier session's order is untouched
    // Reading still works.
    await expect(ib.positions()).resolves.toEqual([]);
  });

  it("with trading: true the same calls go through", async () => {
    await h.start({ scenario: PAPER });
    const ib = await h.connect({ trading: true });
    const trade = await ib.buy("AAPL", 1, { limit: 100 });
    expect(h.sent("placeOrder", 2).map((r) => r.orderId)).toEqual([trade.orderId]);
  });
});

describe("paper broker, live account (TWS logged into live on the paper port)", () => {
  it("refuses trading with that explanation; nothing is sent", async () => {
    await h.start({ scenario: LIVE });
    const ib = await h.connect({ trading: true }); // broker defaults to ibkr-paper
    expect(ib.accounts).toEqual(["U1234567"]);
    expect(ib.isLive).toBe(true);
    const errors = await tryEverything(ib);
    for (const error of errors) {
      expect(error).toBeInstanceOf(TradingGuardError);
      expect((error as TradingGuardError).what).toContain('broker is "ibkr-paper"');
      expect((error as TradingGuardError).what).toContain("live account U1234567");
      expect((error as TradingGuardError).todo).toContain("Log TWS into the paper account");
    }
    await nothingReachedTheGateway(ib);
    expect(ib.allTrades).toEqual([]);
  });

  it("allowLive cannot be combined with the paper broker to get round it", async () => {
    await h.start({ scenario: LIVE });
    const error = await rejection(h.connect({ trading: true, allowLive: true }));
    expect((error as { field?: string }).field).toBe("allowLive");
  });
});

describe("live broker", () => {
  it("without allowLive: refused, nothing sent", async () => {
    await h.start({ scenario: LIVE });
    const ib = await h.connect({ broker: "ibkr-live", trading: true });
    const error = await rejection(ib.buy("AAPL", 1, { limit: 190 }));
    expect(error).toBeInstanceOf(TradingGuardError);
    expect((error as TradingGuardError).what).toContain("U1234567 is live money and allowLive is not set");
    expect((error as TradingGuardError).todo).toContain("allowLive: true");
    // Cancels change a live account too.
    for (const cancel of [await rejection(ib.cancelAll()), await rejection(ib.cancelOrder(5))]) {
      expect(cancel).toBeInstanceOf(TradingGuardError);
      expect((cancel as TradingGuardError).what).toContain("allowLive is not set");
    }
    await nothingReachedTheGateway(ib);
  });

  it("but logged into a paper account: refused as a mismatch", async () => {
    await h.start({ scenario: PAPER });
    const ib = await h.connect({ broker: "ibkr-live", trading: true, allowLive: true });
    const error = await rejection(ib.buy("AAPL", 1, { limit: 190 }));
    expect((error as TradingGuardError).what).toContain(
      "every managed account (DU1234567) is a paper account",
    );
    await nothingReachedTheGateway(ib);
  });

  it("with allowLive: orders go, at most liveOrdersPerMinute of them (3 of a burst of 5)", async () => {
    await h.start({ scenario: LIVE });
    const ib = await h.connect({
      broker: "ibkr-live",
      trading: true,
      allowLive: true,
      liveOrdersPerMinute: 3,
    });
    const burst = await Promise.allSettled(
      Array.from({ length: 5 }, () => ib.buy("AAPL", 1, { limit: 190 })),
    );
    const placed = burst.filter((r) => r.status === "fulfilled");
    const refused = burst.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(placed).toHaveLength(3);
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(TradingGuardError);
      expect((r.reason as TradingGuardError).what).toContain(
        "Live order rate limit reached: 3 orders in the last minute",
      );
    }
    await h.flush(ib);
    expect(h.sent("placeOrder", 2)).toHaveLength(3);
    expect(h.sim.exchange.working()).toHaveLength(3);
  });

  it("the rate limit is for live orders only: a paper burst past it goes through", async () => {
    await h.start({ scenario: PAPER });
    const ib = await h.connect({ trading: true, liveOrdersPerMinute: 3 });
    const burst = await Promise.all(Array.from({ length: 5 }, () => ib.buy("AAPL", 1, { limit: 190 })));
    expect(burst).toHaveLength(5);
    expect(h.sent("placeOrder", 2)).toHaveLength(5);
  });
});

describe("cancels", () => {
  it("cancelAll works on a login with several accounts (it takes no account)", async () => {
    await h.start({
      scenario: scenario({
        accounts: [{ id: "DU1111111" }, { id: "DU2222222" }],
        openOrders: [
          {
            account: "DU2222222",
            clientId: 3,
            orderId: 9,
            contract: "AAPL",
            action: "BUY",
            quantity: 1,
            orderType: "LMT",
            lmtPrice: 100,
          },
        ],
      }),
    });
    const ib = await h.connect({ trading: true });
    await ib.cancelAll();
    await h.flush(ib);
    expect(h.sent("reqGlobalCancel", 2)).toHaveLength(1);
    expect(h.sim.order(3, 9)?.status).toBe("Cancelled");
  });

  it("live cancels with allowLive go through, and do not use up the live order rate", async () => {
    await h.start({ scenario: LIVE });
    const ib = await h.connect({
      broker: "ibkr-live",
      trading: true,
      allowLive: true,
      liveOrdersPerMinute: 1,
    });
    const trade = await ib.buy("AAPL", 1, { limit: 150 });
    await ib.cancelOrder(trade);
    await ib.cancelAll();
    await h.flush(ib);
    expect(trade.status).toBe("Cancelled");
    expect(h.sent("cancelOrder", 2)).toHaveLength(1);
    expect(h.sent("reqGlobalCancel", 2)).toHaveLength(1);
  });
});

describe("TradingGuard rules (unit, injected clock)", () => {
  const settings = { broker: "ibkr-live" as const, trading: true, allowLive: true, liveOrdersPerMinute: 2 };

  it("the live window slides: a minute after an order, its slot is free again", () => {
    let now = 1_000_000;
    const guard = new TradingGuard(settings, () => now);
    guard.checkOrder("U1", ["U1"]);
    now += 30_000;
    guard.checkOrder("U1", ["U1"]);
    expect(() => guard.checkOrder("U1", ["U1"])).toThrow(/rate limit/);
    now += 30_000; // the first is exactly a minute old
    guard.checkOrder("U1", ["U1"]);
    expect(() => guard.checkOrder("U1", ["U1"])).toThrow(/rate limit/);
    now += 30_000;
    guard.checkOrder("U1", ["U1"]);
  });

  it("a refused order does not take a slot", () => {
    const now = 0;
    const guard = new TradingGuard(settings, () => now);
    guard.checkOrder("U1", ["U1"]);
    guard.checkOrder("U1", ["U1"]);
    for (let i = 0; i < 5; i++) expect(() => guard.checkOrder("U1", ["U1"])).toThrow(TradingGuardError);
    const fresh = new TradingGuard(settings, () => now + 60_001);
    fresh.checkOrder("U1", ["U1"]);
  });

  it("paper accounts are DU… and DF…; everything else is live", () => {
    expect(isPaperAccount("DU1234567")).toBe(true);
    expect(isPaperAccount("DF1234567")).toBe(true);
    expect(isPaperAccount("U1234567")).toBe(false);
    expect(isPaperAccount("F1234567")).toBe(false);
    const paper = new TradingGuard({ ...settings, broker: "ibkr-paper", allowLive: false });
    expect(paper.isLive(["DU1"])).toBe(false);
    expect(paper.isLive(["DU1", "U2"])).toBe(true);
    expect(new TradingGuard(settings).isLive(["DU1"])).toBe(true); // the live broker counts as live
  });

  it("a paper account among live ones under the paper broker is still refused", () => {
    const guard = new TradingGuard({ ...settings, broker: "ibkr-paper", allowLive: false });
    expect(() => guard.checkOrder("DU1", ["DU1", "U2"])).toThrow(/logged into live account U2/);
  });
});
