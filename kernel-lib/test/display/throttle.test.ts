/** The latest-value throttle: first at once, at most one per interval, the last always delivered. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { throttleLatest } from "../../src/display/throttle";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("throttleLatest", () => {
  it("sends the first value at once and coalesces a burst into its last value", () => {
    const sent: number[] = [];
    const throttle = throttleLatest((n: number) => sent.push(n), 250);
    for (let i = 1; i <= 10; i++) throttle.push(i);
    expect(sent).toEqual([1]);
    vi.advanceTimersByTime(249);
    expect(sent).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([1, 10]);
  });

  it("keeps to one value per interval under a steady stream", () => {
    const sent: number[] = [];
    const throttle = throttleLatest((n: number) => sent.push(n), 250);
    for (let t = 0; t < 1000; t += 10) {
      throttle.push(t);
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(250);
    expect(sent.length).toBeGreaterThanOrEqual(4);
    expect(sent.length).toBeLessThanOrEqual(6);
    expect(sent.at(-1)).toBe(990);
  });

  it("sends again at once after a quiet interval", () => {
    const sent: number[] = [];
    const throttle = throttleLatest((n: number) => sent.push(n), 250);
    throttle.push(1);
    vi.advanceTimersByTime(1000);
    throttle.push(2);
    expect(sent).toEqual([1, 2]);
  });

  it("flushes a pending value, and cancel drops it", () => {
    const sent: number[] = [];
    const throttle = throttleLatest((n: number) => sent.push(n), 250);
    throttle.push(1);
    throttle.push(2);
    throttle.flush();
    expect(sent).toEqual([1, 2]);
    throttle.push(3);
    throttle.cancel();
    throttle.push(4);
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([1, 2]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
