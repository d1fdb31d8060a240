/**
 * IB's historical-data pacing, respected by the library: the rules as a unit with an injected clock,
 * then end to end — a burst of requests for one contract waits instead of drawing error 162, an
 * identical request waits its 15 s, and close() ends such a wait at once.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type IbkrError, NotConnectedError } from "../../src/errors";
import type { IB } from "../../src/ib";
import { HistoricalPacer, PACING_MARGIN_MS as M } from "../../src/market-data/pacing";
import { Harness, rejection, settledWithin, until } from "./helpers";

/** A pacer on a fake clock whose sleeps advance the clock; records each sleep. */
function fakePacer(start = 1_000_000) {
  const clock = { now: start, sleeps: [] as number[] };
  const pacer = new HistoricalPacer(
    () => clock.now,
    async (ms) => {
      clock.sleeps.push(ms);
      clock.now += ms;
    },
  );
  return { pacer, clock };
}

describe("HistoricalPacer (unit, injected clock)", () => {
  it("a first request goes at once", async () => {
    const { pacer, clock } = fakePacer();
    expect(pacer.delayFor("AAPL|1 D", "AAPL")).toBe(0);
    await pacer.wait("AAPL|1 D", "AAPL");
    expect(clock.sleeps).toEqual([]);
  });

  it("an identical request waits until 15 s (plus a margin for queueing) after the first", async () => {
    expect(M).toBeGreaterThan(0);
    expect(M).toBeLessThanOrEqual(1_000);
    const { pacer, clock } = fakePacer();
    await pacer.wait("AAPL|1 D", "AAPL");
    clock.now += 4_000;
    expect(pacer.delayFor("AAPL|1 D", "AAPL")).toBe(11_000 + M);
    const before = clock.now;
    await pacer.wait("AAPL|1 D", "AAPL");
    expect(clock.now - before).toBeGreaterThanOrEqual(11_000 + M);
    expect(clock.now - before).toBeLessThan(11_010 + M);
    // A different request for the same contract did not have to wait for it.
    const { pacer: other } = fakePacer();
    await other.wait("AAPL|1 D", "AAPL");
    expect(other.delayFor("AAPL|2 D", "AAPL")).toBe(0);
  });

  it("a sixth request for one contract within 2 s waits for the oldest to age out", async () => {
    const { pacer, clock } = fakePacer();
    const started = clock.now;
    for (let i = 0; i < 5; i++) {
      await pacer.wait(`AAPL|${i} D`, "AAPL");
      clock.now += 100;
    }
    expect(clock.sleeps).toEqual([]);
    expect(pacer.delayFor("AAPL|9 D", "AAPL")).toBe(2_000 + M - 500);
    await pacer.wait("AAPL|9 D", "AAPL");
    expect(clock.now - started).toBeGreaterThan(2_000 + M);
    // Another contract is not held up by AAPL's burst.
    expect(pacer.delayFor("MSFT|1 D", "MSFT")).toBe(0);
  });

  it("the 61st request in ten minutes waits for the first to leave the window", async () => {
    const { pacer, clock } = fakePacer();
    const started = clock.now;
    for (let i = 0; i < 60; i++) {
      await pacer.wait(`C${i}|1 D`, `C${i}`);
      clock.now += 1_000;
    }
    expect(clock.sleeps).toEqual([]);
    expect(pacer.delayFor("C60|1 D", "C60")).toBe(600_000 + M - 60_000);
    await pacer.wait("C60|1 D", "C60");
    expect(clock.now - started).toBeGreaterThan(600_000 + M);
  });

  it("an aborted wait rejects with the abort's reason and records nothing", async () => {
    const pacer = new HistoricalPacer();
    await pacer.wait("AAPL|1 D", "AAPL");
    const controller = new AbortController();
    const waiting = pacer.wait("AAPL|1 D", "AAPL", controller.signal);
    const reason = new Error("closed");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    // Only the first request counts.
    expect(pacer.delayFor("AAPL|2 D", "AAPL")).toBe(0);
  });
});

describe("bars() pacing end to end", () => {
  const h = new Harness();
  let ib: IB;
  const warnings: IbkrError[] = [];
  beforeEach(async () => {
    await h.start();
    ib = await h.connect();
    warnings.length = 0;
    ib.on("warning", (w) => warnings.push(w));
  });
  afterEach(() => h.stop());

  it("six requests for one contract at once: the sixth waits, none is refused (no 162)", async () => {
    const started = performance.now();
    const durations = ["1 D", "2 D", "3 D", "4 D", "5 D", "6 D"];
    const results = await Promise.all(
      durations.map((duration) => ib.bars("AAPL", { duration, barSize: "1 hour" })),
    );
    expect(results.every((bars) => bars.length > 0)).toBe(true);
    const sent = h.requests.filter((r) => r.request.type === "reqHistoricalData");
    expect(sent).toHaveLength(6);
    // The first five go at once; the sixth no sooner than 2 s after the library sent the first.
    expect((sent[4]?.at ?? 0) - started).toBeLessThan(1_000);
    expect((sent[5]?.at ?? 0) - started).toBeGreaterThanOrEqual(2_000);
    expect(performance.now() - started).toBeLessThan(4_500);
    expect(warnings.filter((w) => w.code === 162)).toEqual([]);
  });

  it("an identical request waits (IB's 15 s rule) and close() ends the wait at once", async () => {
    const first = await ib.bars("MSFT", { duration: "1 D", barSize: "1 hour" });
    expect(first.length).toBeGreaterThan(0);
    const second = ib.bars("MSFT", { duration: "1 D", barSize: "1 hour" });
    expect((await settledWithin(second, 500)).status).toBe("pending");
    expect(h.sent("reqHistoricalData")).toHaveLength(1);
    const handles = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    ib.close();
    const error = await rejection(second);
    expect(error).toBeInstanceOf(NotConnectedError);
    // The 15 s timer went with it.
    expect(process.getActiveResourcesInfo().filter((r) => r === "Timeout").length).toBeLessThan(handles);
    await until(() => h.sim.clients().length === 0, 2000, "the close");
    expect(h.sent("reqHistoricalData")).toHaveLength(1);
    expect(warnings.filter((w) => w.code === 162)).toEqual([]);
  });

  it("outgoing messages are paced under IB's 50 per second: a burst of 90 snapshot quotes draws no error 100", async () => {
    const symbols = Array.from(
      { length: 90 },
      (_, i) => ["AAPL", "MSFT", "KO", "SPY", "QQQ", "JPM"][i % 6] as string,
    );
    const notices: number[] = [];
    ib.on("notice", (n) => notices.push(n.code));
    const started = performance.now();
    const quotes = await ib.quotes(symbols);
    expect(quotes).toHaveLength(90);
    expect(quotes.every((q) => q.last !== undefined && q.last > 0)).toBe(true);
    expect(performance.now() - started).toBeGreaterThan(1_000); // 90 requests at under 50/s
    expect(warnings.filter((w) => w.code === 100)).toEqual([]);
    expect(notices.filter((code) => code === 100)).toEqual([]); // IB sends 100 with id -1
    // And the simulator saw no second with more than 50 of this client's messages.
    const times = h.requests.filter((r) => r.clientId === 2).map((r) => r.at);
    const busiest = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    expect(busiest).toBeLessThanOrEqual(50);
  });

  it("after close(), bars() refuses at once", async () => {
    ib.close();
    await expect(ib.bars("AAPL")).rejects.toBeInstanceOf(NotConnectedError);
  });
});
