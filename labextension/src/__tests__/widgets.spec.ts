import { Signal } from "@lumino/signaling";
import { IbkrModel, SourceModel } from "../model";
import type { MonitorStatus } from "../sources";
import { ConnectionBadge, isDoneToday, type MonitorControls, OrdersPanel, PositionsPanel } from "../widgets";
import { must, order, payload, position } from "./fixtures";

const HOSTILE = '<img src=x onerror="window.__pwned=1">';

function setUp() {
  const model = new IbkrModel("notebook");
  const source = new SourceModel("a.ipynb");
  model.setSourceModel("notebook", source);
  return { model, source };
}

function cellTexts(root: HTMLElement, column: string): string[] {
  return [...root.querySelectorAll(`td[data-column="${column}"]`)].map((td) => td.textContent ?? "");
}

describe("PositionsPanel", () => {
  it("shows what to do before any snapshot", () => {
    const { model } = setUp();
    const panel = new PositionsPanel({ model });
    expect(panel.node.querySelector(".jp-ibkr-Panel-notice")?.textContent).toBe(
      "Nothing to show yet: run `await connect()` in a notebook, or start the monitor.",
    );
    expect(panel.node.querySelector("table")).toBeNull();
  });

  it("renders positions and account totals, re-rendering on change", () => {
    const { model, source } = setUp();
    const panel = new PositionsPanel({ model });
    source.applyData(payload({ positions: [position(), position({ symbol: "MSFT", localSymbol: "MSFT" })] }));
    panel.render(); // update() is asynchronous; render() is what it calls
    expect(cellTexts(panel.node, "symbol")).toEqual(["AAPL", "MSFT"]);
    expect(panel.node.querySelector(".jp-ibkr-Account")?.textContent).toContain("DU1234567");
    expect(panel.node.querySelector(".jp-ibkr-Badge-label")?.textContent).toBe("PAPER");
  });

  it("renders hostile strings from the broker as text, never as markup", () => {
    const { model, source } = setUp();
    const panel = new PositionsPanel({ model });
    document.body.append(panel.node);
    const p = payload({ positions: [position({ symbol: HOSTILE, localSymbol: HOSTILE, account: HOSTILE })] });
    p.connection = { ...p.connection, state: "disconnected", reason: `<b>${HOSTILE}</b>` };
    p.account[0].account = HOSTILE;
    p.account[0].currency = "<script>window.__pwned=2</script>";
    source.applyData(p);
    panel.render();
    expect(cellTexts(panel.node, "symbol")).toEqual([HOSTILE]);
    expect(panel.node.querySelector(".jp-ibkr-Badge-reason")?.textContent).toContain(`<b>${HOSTILE}</b>`);
    expect(panel.node.querySelector("img")).toBeNull();
    expect(panel.node.querySelector("script")).toBeNull();
    expect(panel.node.querySelector("b")).toBeNull();
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
    panel.node.remove();
  });

  it("sorts on a header click and filters as the user types", () => {
    const { model, source } = setUp();
    const panel = new PositionsPanel({ model });
    source.applyData(
      payload({
        positions: [
          position({ localSymbol: "MSFT", quantity: 5 }),
          position({ localSymbol: "AAPL", quantity: 100 }),
          position({ localSymbol: "ESZ6", secType: "FUT", quantity: -2 }),
        ],
      }),
    );
    panel.render();
    must(panel.node.querySelector<HTMLButtonElement>('button[data-column="symbol"]')).click();
    expect(cellTexts(panel.node, "symbol")).toEqual(["AAPL", "ESZ6", "MSFT"]);
    must(panel.node.querySelector<HTMLButtonElement>('button[data-column="symbol"]')).click();
    expect(cellTexts(panel.node, "symbol")).toEqual(["MSFT", "ESZ6", "AAPL"]);
    const filter = must(panel.node.querySelector<HTMLInputElement>(".jp-ibkr-Panel-filter"));
    filter.value = "fut";
    filter.dispatchEvent(new Event("input"));
    panel.render();
    expect(cellTexts(panel.node, "symbol")).toEqual(["ESZ6"]);
  });

  it("shows only the columns from the settings", () => {
    const { model, source } = setUp();
    const panel = new PositionsPanel({ model, columns: ["symbol", "quantity"] });
    source.applyData(payload());
    panel.render();
    expect([...panel.node.querySelectorAll("th")].map((th) => th.textContent)).toEqual(["Symbol", "Qty"]);
  });

  it("reports a rejected snapshot instead of rendering part of it", () => {
    const { model, source } = setUp();
    const panel = new PositionsPanel({ model });
    source.applyData(payload());
    source.applyData({ ...payload({ seq: 2 }), v: 2 });
    panel.render();
    const notice = must(panel.node.querySelector(".jp-ibkr-Panel-notice"));
    expect(notice.textContent).toMatch(/cannot read.*unsupported feed version number 2/);
    expect(notice.classList.contains("jp-ibkr-mod-error")).toBe(true);
    expect(panel.node.querySelector("table")).toBeNull();
  });

  it("keeps the last snapshot after a kernel restart, saying so", () => {
    const { model, source } = setUp();
    const panel = new PositionsPanel({ model });
    source.applyData(payload());
    source.markDown("the kernel restarted: run `await connect()` again");
    panel.render();
    expect(panel.node.querySelector(".jp-ibkr-Panel-notice")?.textContent).toMatch(
      /^Last snapshot from .*the kernel restarted/,
    );
    expect(panel.node.querySelector(".jp-ibkr-Badge-label")?.textContent).toBe("OFFLINE");
    expect(panel.node.classList.contains("jp-ibkr-mod-down")).toBe(true);
    expect(panel.node.querySelector("table")).not.toBeNull();
  });

  it("switches source from its selector, and offers the monitor's start button there", async () => {
    const { model } = setUp();
    const statusChanged = new Signal<unknown, MonitorStatus>({});
    const monitor: MonitorControls & { status: MonitorStatus } = {
      status: "stopped",
      failure: null,
      statusChanged,
      start: jest.fn(async () => {
        monitor.status = "running";
        statusChanged.emit("running");
      }),
      stop: jest.fn(async () => undefined),
    };
    const panel = new PositionsPanel({ model, monitor });
    const button = must(panel.node.querySelector<HTMLButtonElement>(".jp-ibkr-Panel-monitorButton"));
    expect(button.hidden).toBe(true);
    const select = must(panel.node.querySelector<HTMLSelectElement>(".jp-ibkr-Panel-source"));
    select.value = "monitor";
    select.dispatchEvent(new Event("change"));
    expect(model.selected).toBe("monitor");
    panel.render();
    expect(button.hidden).toBe(false);
    expect(button.textContent).toBe("Start monitor");
    button.click();
    await Promise.resolve();
    expect(monitor.start).toHaveBeenCalled();
    panel.render();
    expect(button.textContent).toBe("Stop monitor");
  });
});

describe("OrdersPanel", () => {
  it("lists working orders first and finished ones under done today", () => {
    const { model, source } = setUp();
    const panel = new OrdersPanel({ model });
    source.applyData(
      payload({
        ts: "2026-11-24T15:00:00.000Z",
        orders: [
          order({ orderId: 1, status: "Filled", filled: 10, remaining: 0, avgFillPrice: 159.9 }),
          order({ orderId: 2, status: "Submitted" }),
          order({ orderId: 3, status: "PreSubmitted" }),
          order({ orderId: 4, status: "Cancelled" }),
          order({ orderId: 5, status: "Filled", updatedAt: "2026-11-20T15:00:00.000Z" }),
        ],
      }),
    );
    panel.render();
    const working = must(panel.node.querySelector<HTMLElement>(".jp-ibkr-Orders-working"));
    const done = must(panel.node.querySelector<HTMLElement>(".jp-ibkr-Orders-done"));
    expect(working.compareDocumentPosition(done) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(cellTexts(working, "orderId")).toEqual(["2", "3"]);
    expect(cellTexts(done, "orderId")).toEqual(["1", "4"]);
    expect(done.querySelector("h3")?.textContent).toBe("Done today (2)");
  });

  it("renders an order's hostile fields literally", () => {
    const { model, source } = setUp();
    const panel = new OrdersPanel({ model });
    source.applyData(payload({ orders: [order({ symbol: HOSTILE, status: HOSTILE, tif: "<i>DAY</i>" })] }));
    panel.render();
    expect(cellTexts(panel.node, "symbol")).toEqual([HOSTILE]);
    expect(cellTexts(panel.node, "status")).toEqual([HOSTILE]);
    expect(panel.node.querySelector("img, i")).toBeNull();
  });

  it("isDoneToday compares local days", () => {
    expect(isDoneToday(order({ status: "Submitted" }), "2026-11-24T15:00:00.000Z")).toBe(false);
    expect(
      isDoneToday(order({ status: "Filled", updatedAt: "not a time" }), "2026-11-24T15:00:00.000Z"),
    ).toBe(true);
  });
});

describe("ConnectionBadge", () => {
  it("shows the selected source's state, with details in the tooltip", () => {
    const { model, source } = setUp();
    const badge = new ConnectionBadge(model);
    expect(badge.node.textContent).toBe("IBKR OFFLINE");
    const live = payload();
    live.source = { ...live.source, live: true, broker: "ibkr-live", port: 7496 };
    source.applyData(live);
    badge.render();
    expect(badge.node.textContent).toBe("IBKR LIVE");
    const inner = badge.node.firstElementChild as HTMLElement;
    expect(inner.classList.contains("jp-ibkr-Badge-live")).toBe(true);
    expect(inner.title).toContain("client id 2 · 127.0.0.1:7496 (TWS)");
  });
});
