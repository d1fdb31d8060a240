/**
 * Long historical downloads: split as IB's per-request limits require, merged without duplicates,
 * with progress reported.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect, type IB, InvalidArgumentError } from "../../src";
import { planHistory } from "../../src/market-data/history";
import { TwsSimulator } from "../../src/simulator";

describe("planning", () => {
  const now = Date.UTC(2026, 10, 24, 12, 0, 0);

  it("asks once when IB serves the whole duration in one request", () => {
    expect(planHistory("1 Y", "1 day", undefined, now)).toEqual([{ duration: "1 Y", endMs: undefined }]);
    expect(planHistory("1 D", "1 min", undefined, now)).toEqual([{ duration: "1 D", endMs: undefined }]);
  });

  it("splits 5 days of 1-minute bars into five one-day requests, each ending where the next starts", () => {
    const plan = planHistory("5 D", "1 min", undefined, now);
    expect(plan.map((r) => r.duration)).toEqual(["1 D", "1 D", "1 D", "1 D", "1 D"]);
    expect(plan[0]?.endMs).toBeUndefined();
    expect(plan.slice(1).map((r) => (now - (r.endMs as number)) / 86_400_000)).toEqual([1, 2, 3, 4]);
  });

  it("covers a remainder with a shorter last request", () => {
    const plan = planHistory("5000 S", "1 secs", now, now);
    expect(plan.map((r) => r.duration)).toEqual(["1800 S", "1800 S", "1400 S"]);
  });

  it("names the field of a bad duration or bar size", () => {
    expect(() => planHistory("1 fortnight", "1 day", undefined, now)).toThrow(InvalidArgumentError);
    expect(() => planHistory("1 D", "7 mins", undefined, now)).toThrow(/barSize/);
  });
});

describe("downloading", () => {
  let sim: TwsSimulator;
  let ib: IB;
  afterEach(async () => {
    ib?.close();
    await sim?.close();
  });

  it("merges the requests of a long download into one ordered series with no duplicate bars", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0 });
    ib = await connect({ port: sim.port });
    const progress: number[] = [];
    const bars = await ib.bars("AAPL", {
      duration: "3 D",
      barSize: "1 min",
      end: new Date(Date.UTC(2026, 10, 20, 0, 0, 0)),
      onProgress: (p) => progress.push(p.done),
    });
    expect(progress).toEqual([0, 1, 2, 3]);
    const times = bars.map((b) => b.time.getTime());
    expect(times.length).toBe(3 * 24 * 60);
    expect(new Set(times).size).toBe(times.length);
    expect(times.every((t, i) => i === 0 || t - (times[i - 1] as number) === 60_000)).toBe(true);
    expect(times.at(-1)).toBe(Date.UTC(2026, 10, 19, 23, 59, 0));
    const requests = sim.received(2).filter((r) => r.type === "reqHistoricalData");
    expect(requests).toHaveLength(3);
  });
});
