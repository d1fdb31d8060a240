/**
 * The tslab adapter against a faked kernel (the real one: test/python/check_tslab_kernel.py):
 * one message per bundle, live displays, the hidden channel, "Not ready", and the public-API fallback.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  displayBundle,
  HIDDEN_DISPLAY_ID,
  isTslab,
  newLiveDisplay,
  publishHidden,
} from "../../src/display/tslab";
import { type FakeTslab, installFakeTslab } from "./fake-tslab";

let kernel: FakeTslab | undefined;

afterEach(() => {
  kernel?.uninstall();
  kernel = undefined;
  vi.useRealTimers();
});

describe("outside tslab", () => {
  it("does nothing and says so", () => {
    expect(isTslab()).toBe(false);
    expect(displayBundle({ "text/plain": "x" })).toBe(false);
    expect(publishHidden("application/x+json", { a: 1 })).toBe(false);
    const live = newLiveDisplay();
    live.update({ "text/plain": "x" });
    live.close();
  });
});

describe("in a kernel (tslab's own writer)", () => {
  beforeEach(() => {
    kernel = installFakeTslab();
  });

  it("is detected", () => {
    expect(isTslab()).toBe(true);
  });

  it("sends a whole bundle as one display_data message", () => {
    expect(displayBundle({ "text/html": "<b>x</b>", "text/plain": "x" })).toBe(true);
    expect(kernel?.messages).toEqual([
      { msgType: "display_data", data: { "text/html": "<b>x</b>", "text/plain": "x" }, displayId: undefined },
    ]);
  });

  it("publishes on the hidden channel with update_display_data only, for an id never displayed", () => {
    expect(publishHidden("application/vnd.test+json", { seq: 1 })).toBe(true);
    expect(publishHidden("application/vnd.test+json", { seq: 2 })).toBe(true);
    expect(kernel?.messages).toEqual([
      {
        msgType: "update_display_data",
        data: { "application/vnd.test+json": { seq: 1 } },
        displayId: HIDDEN_DISPLAY_ID,
      },
      {
        msgType: "update_display_data",
        data: { "application/vnd.test+json": { seq: 2 } },
        displayId: HIDDEN_DISPLAY_ID,
      },
    ]);
  });

  it("refuses what JSON cannot carry without throwing", () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(publishHidden("application/vnd.test+json", circular)).toBe(false);
  });

  it("updates a live display in place: display_data once, then throttled updates, the last one kept", () => {
    vi.useFakeTimers();
    const live = newLiveDisplay({ minIntervalMs: 100 });
    live.update({ "text/plain": "1" });
    live.update({ "text/plain": "2" });
    live.update(() => ({ "text/plain": "3" }));
    expect(kernel?.messages.map((m) => [m.msgType, m.data["text/plain"]])).toEqual([["display_data", "1"]]);
    vi.advanceTimersByTime(100);
    live.update({ "text/plain": "4" });
    live.close();
    live.update({ "text/plain": "5" });
    vi.advanceTimersByTime(1000);
    expect(kernel?.messages.map((m) => [m.msgType, m.data["text/plain"], m.displayId])).toEqual([
      ["display_data", "1", live.id],
      ["update_display_data", "3", live.id],
      ["update_display_data", "4", live.id],
    ]);
  });

  it("renders a lazy bundle only when it is sent", () => {
    vi.useFakeTimers();
    const live = newLiveDisplay({ minIntervalMs: 100 });
    const render = vi.fn(() => ({ "text/plain": "x" }));
    live.update(render);
    live.update(render);
    live.update(render);
    vi.advanceTimersByTime(100);
    expect(render).toHaveBeenCalledTimes(2);
    live.close();
  });
});

describe("before the kernel's first execute (tslab's 'Not ready')", () => {
  it("sends nothing, throws nothing, and works once a cell has run", () => {
    kernel = installFakeTslab({ executed: false });
    expect(displayBundle({ "text/plain": "x" })).toBe(false);
    expect(publishHidden("application/vnd.test+json", {})).toBe(false);
    const live = newLiveDisplay({ minIntervalMs: 0 });
    live.update({ "text/plain": "early" });
    expect(kernel.messages).toEqual([]);
    kernel.execute();
    live.update({ "text/plain": "late" });
    expect(publishHidden("application/vnd.test+json", {})).toBe(true);
    // The live display's first message to get through is its display_data.
    expect(kernel.messages.map((m) => m.msgType)).toEqual(["display_data", "update_display_data"]);
  });
});

describe("fallback: tslab's public API only (jupyter.js not found)", () => {
  beforeEach(() => {
    kernel = installFakeTslab({ jupyterInCache: false });
  });

  it("sends the richest single MIME type of a bundle", () => {
    expect(displayBundle({ "text/plain": "x", "text/html": "<b>x</b>" })).toBe(true);
    expect(kernel?.messages).toEqual([
      { msgType: "display_data", data: { "text/html": "<b>x</b>" }, displayId: undefined },
    ]);
  });

  it("keeps the hidden channel hidden: a display marked as an update before its first send", () => {
    publishHidden("application/vnd.test+json", { seq: 1 });
    publishHidden("application/vnd.test+json", { seq: 2 });
    expect(kernel?.messages.map((m) => m.msgType)).toEqual(["update_display_data", "update_display_data"]);
    expect(new Set(kernel?.messages.map((m) => m.displayId)).size).toBe(1);
  });

  it("still updates a live display in place", () => {
    const live = newLiveDisplay({ minIntervalMs: 0 });
    live.update({ "text/plain": "1" });
    live.update({ "text/plain": "2" });
    live.close();
    expect(kernel?.messages.map((m) => m.msgType)).toEqual(["display_data", "update_display_data"]);
  });
});
