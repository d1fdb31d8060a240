import { Signal } from "@lumino/signaling";
import { IbkrModel, SourceModel } from "../model";
import type { FeedOrder, FeedPayload } from "../payload";
import type { MonitorStatus } from "../sources";
import { DEFAULT_ROW_HEIGHT } from "../table";
import {
  ARRIVED_CLASS,
  type CancelDetails,
  ConnectionBadge,
  cancelDetails,
  cancelDialogBody,
  FADE_MS,
  isDoneToday,
  LEAVING_CLASS,
  type MonitorControls,
  NOTEBOOK_RECONNECT_HINT,
  OrdersPanel,
  PositionsPanel,
} from "../widgets";
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
    expect(panel.node.querySelector<HTMLElement>(".jp-ibkr-Panel-content")?.hidden).toBe(true);
    expect(panel.node.querySelector("tr.jp-ibkr-Table-row")).toBeNull();
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

  it("shows each position's daily P&L signed and coloured, and nothing where it is not subscribed", () => {
    const { model, source } = setUp();
    const panel = new PositionsPanel({ model });
    source.applyData(
      payload({
        positions: [
          position({ localSymbol: "AAPL", dailyPnl: 125.5 }),
          position({ localSymbol: "MSFT", conId: 272093, dailyPnl: -40 }),
          position({ localSymbol: "KO", conId: 8894, dailyPnl: null }),
        ],
      }),
    );
    panel.render();
    const cells = [...panel.node.querySelectorAll<HTMLElement>('td[data-column="dailyPnl"]')];
    expect(cells.map((td) => td.textContent)).toEqual(["+125.50", "-40.00", ""]);
    expect(cells[0]?.classList.contains("jp-ibkr-positive")).toBe(true);
    expect(cells[1]?.classList.contains("jp-ibkr-negative")).toBe(true);
    expect([...panel.node.querySelectorAll("th")].map((th) => th.textContent)).toContain("Daily");
  });

  it("shows only the columns from the settings", () => {
    const { model, source } = setUp();
    const panel = new PositionsPanel({ model, columns: ["symbol", "quantity"] });
    source.applyData(payload());
    panel.render();
    const headers = [...panel.node.querySelectorAll("th")].map((th) => th.textContent);
    expect(headers).toEqual(["Symbol", "Qty", "Code"]); // and the copy-as-code button column
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
    expect(panel.node.querySelector<HTMLElement>(".jp-ibkr-Panel-content")?.hidden).toBe(true);
    expect(panel.node.querySelector("tr.jp-ibkr-Table-row")).toBeNull();
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
      trading: false,
      statusChanged,
      reconnect: jest.fn(async () => undefined),
      cancelOrder: jest.fn(async () => "cancelled"),
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

  it("says when TWS refused to list orders (Read-Only API), and where to untick it", () => {
    const { model, source } = setUp();
    const panel = new OrdersPanel({ model });
    const notice = () => must(panel.node.querySelector<HTMLElement>(".jp-ibkr-Panel-notice"));
    source.applyData(payload());
    panel.render();
    expect(notice().hidden).toBe(true);
    source.applyData(payload({ seq: 2, connection: { ...payload().connection, readOnlyApi: true } }));
    panel.render();
    expect(notice().hidden).toBe(false);
    expect(notice().textContent).toMatch(/TWS refused to list orders.*"Read-Only API" setting is ticked/);
    // Positions are unaffected: no such notice there.
    const positions = new PositionsPanel({ model });
    positions.render();
    expect(must(positions.node.querySelector<HTMLElement>(".jp-ibkr-Panel-notice")).hidden).toBe(true);
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

/** A running monitor with trading on (change what a test needs), and its source selected. */
function monitorSetUp(overrides: Partial<MonitorControls> = {}) {
  const model = new IbkrModel("monitor");
  const source = new SourceModel("monitor");
  model.setSourceModel("monitor", source);
  const monitor: MonitorControls = {
    status: "running",
    failure: null,
    trading: true,
    statusChanged: new Signal<unknown, MonitorStatus>({}),
    start: jest.fn(async () => undefined),
    stop: jest.fn(async () => undefined),
    reconnect: jest.fn(async () => undefined),
    cancelOrder: jest.fn(async (id: number) => `Order ${id}: cancel sent; status PendingCancel.`),
    ...overrides,
  };
  return { model, source, monitor };
}

/** A snapshot from the monitor (client 3, trading) with the given orders. */
function monitorPayload(orders: FeedOrder[], overrides: Partial<FeedPayload> = {}): FeedPayload {
  const base = payload();
  return payload({
    source: { ...base.source, clientId: 3 },
    connection: { ...base.connection, trading: true },
    orders,
    ...overrides,
  });
}

function cancelButtons(root: HTMLElement): HTMLButtonElement[] {
  return [...root.querySelectorAll<HTMLButtonElement>("button.jp-ibkr-Table-action")];
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("large books", () => {
  it("renders 10,000 positions as a window of rows, sorting and filtering the full set", () => {
    const { model, source } = setUp();
    const panel = new PositionsPanel({ model });
    const positions = Array.from({ length: 10_000 }, (_, i) =>
      position({ conId: i + 1, symbol: `S${i}`, localSymbol: `S${i}`, quantity: i }),
    );
    source.applyData(payload({ positions }));
    panel.render();
    expect(panel.node.querySelectorAll("tr.jp-ibkr-Table-row").length).toBeLessThan(60);
    must(panel.node.querySelector<HTMLButtonElement>('button[data-column="quantity"]')).click();
    expect(cellTexts(panel.node, "symbol")[0]).toBe("S9999");
    const viewport = must(panel.node.querySelector<HTMLElement>(".jp-ibkr-Table-viewport"));
    viewport.scrollTop = 2_000 * DEFAULT_ROW_HEIGHT;
    viewport.dispatchEvent(new Event("scroll"));
    expect(cellTexts(panel.node, "symbol")).toContain("S7999"); // the 2,000th largest
    const filter = must(panel.node.querySelector<HTMLInputElement>(".jp-ibkr-Panel-filter"));
    filter.value = "s1234";
    filter.dispatchEvent(new Event("input"));
    panel.render();
    expect(cellTexts(panel.node, "symbol")).toEqual(["S1234"]);
  });

  it("keeps the table (and its scroll position) across snapshots", () => {
    const { model, source } = setUp();
    const panel = new PositionsPanel({ model });
    const positions = Array.from({ length: 1_000 }, (_, i) =>
      position({ conId: i + 1, localSymbol: `S${i}` }),
    );
    source.applyData(payload({ positions }));
    panel.render();
    const viewport = must(panel.node.querySelector<HTMLElement>(".jp-ibkr-Table-viewport"));
    viewport.scrollTop = 500 * DEFAULT_ROW_HEIGHT;
    source.applyData(payload({ seq: 2, positions }));
    panel.render();
    expect(panel.node.querySelector(".jp-ibkr-Table-viewport")).toBe(viewport);
    expect(viewport.scrollTop).toBe(500 * DEFAULT_ROW_HEIGHT);
    expect(cellTexts(panel.node, "symbol")).toContain("S500");
  });
});

describe("copy as code", () => {
  it("copies a position from its row button and from Enter on the focused row", async () => {
    const { model, source } = setUp();
    const copy = jest.fn(async () => true);
    const panel = new PositionsPanel({ model, copy });
    source.applyData(
      payload({
        positions: [
          position(),
          position({ symbol: "ES", localSymbol: "ESZ6", secType: "FUT", conId: 495512563 }),
        ],
      }),
    );
    panel.render();
    cancelButtons(panel.node)[1].click();
    await flush();
    expect(copy).toHaveBeenCalledWith("await ib.contract({ conId: 495512563 })");
    expect(panel.message).toEqual({ text: "Copied: await ib.contract({ conId: 495512563 })", kind: "info" });
    const grid = panel.positionsTable.focusNode;
    grid.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown" }));
    grid.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await flush();
    expect(copy).toHaveBeenLastCalledWith('await ib.contract("AAPL")');
  });

  it("shows the code as text when the clipboard fails", async () => {
    const { model, source } = setUp();
    const panel = new PositionsPanel({ model, copy: async () => false });
    source.applyData(payload({ positions: [position({ symbol: HOSTILE, localSymbol: HOSTILE, conId: 0 })] }));
    panel.render();
    await panel.copyAsCode(must(model.current?.payload?.positions[0]));
    const message = must(panel.node.querySelector<HTMLElement>(".jp-ibkr-Panel-message"));
    expect(message.textContent).toContain(JSON.stringify(HOSTILE));
    expect(message.classList.contains("jp-ibkr-mod-error")).toBe(true);
    expect(message.querySelector("img")).toBeNull();
  });
});

describe("reconnect", () => {
  it("explains, and runs nothing, for a notebook source", async () => {
    const { model } = setUp();
    const { monitor } = monitorSetUp();
    const panel = new PositionsPanel({ model, monitor });
    must(panel.node.querySelector<HTMLButtonElement>(".jp-ibkr-Panel-reconnect")).click();
    await flush();
    expect(panel.message?.text).toBe(NOTEBOOK_RECONNECT_HINT);
    expect(monitor.reconnect).not.toHaveBeenCalled();
  });

  it("re-bootstraps the monitor for the monitor source, and reports a failure as text", async () => {
    const { model, monitor } = monitorSetUp();
    const panel = new OrdersPanel({ model, monitor });
    await panel.reconnect();
    expect(monitor.reconnect).toHaveBeenCalledTimes(1);
    expect(panel.message?.text).toBe("The monitor reconnected with the current settings.");
    (monitor.reconnect as jest.Mock).mockRejectedValueOnce(new Error("<b>326 client id in use</b>"));
    await panel.reconnect();
    expect(panel.message).toEqual({
      text: "The monitor did not reconnect: <b>326 client id in use</b>",
      kind: "error",
    });
    expect(panel.node.querySelector(".jp-ibkr-Panel-message b")).toBeNull();
  });
});

describe("cancelling an order", () => {
  const confirmYes = () => jest.fn(async (_details: CancelDetails) => true);

  it("is disabled for a notebook source, and clicking does nothing", async () => {
    const { model, source } = setUp();
    const { monitor } = monitorSetUp();
    const confirmCancel = confirmYes();
    const panel = new OrdersPanel({ model, monitor, confirmCancel });
    source.applyData(monitorPayload([order({ orderId: 11, clientId: 3 })]));
    panel.render();
    const [button] = cancelButtons(panel.node);
    expect(button.disabled).toBe(true);
    expect(button.title).toMatch(/only through the monitor kernel.*await ib\.cancelOrder\(11\)/);
    button.click();
    await panel.cancel(must(model.current?.payload?.orders[0]));
    expect(confirmCancel).not.toHaveBeenCalled();
    expect(monitor.cancelOrder).not.toHaveBeenCalled();
    expect(panel.message?.kind).toBe("error");
  });

  it.each<[string, Partial<MonitorControls>, Partial<FeedPayload>, Partial<FeedOrder>, RegExp]>([
    ["trading is off in the settings", { trading: false }, {}, {}, /Monitor trading in the settings/],
    ["the monitor is stopped", { status: "stopped" }, {}, {}, /not running/],
    [
      "the monitor's connection is read-only",
      {},
      { connection: { ...payload().connection, trading: false } },
      {},
      /read-only/,
    ],
    [
      "a live read-only connection",
      {},
      {
        connection: { ...payload().connection, trading: false },
        source: { ...payload().source, clientId: 3, live: true, broker: "ibkr-live" },
      },
      {},
      /monitorAllowLive/,
    ],
    [
      "the paper broker is logged into a live account",
      {},
      {
        connection: { ...payload().connection, trading: false },
        source: {
          ...payload().source,
          clientId: 3,
          live: true,
          broker: "ibkr-paper",
          accounts: ["U1234567"],
        },
      },
      {},
      /broker is ibkr-paper but TWS is logged into live account U1234567.*set Broker to ibkr-live/,
    ],
    [
      "another client placed the order",
      {},
      {},
      { clientId: 2 },
      /Placed by client 2.*only the client that placed/,
    ],
    ["the order is finished", {}, {}, { status: "Filled" }, /finished/],
    [
      "TWS's Read-Only API setting is ticked",
      {},
      { connection: { ...payload().connection, trading: true, readOnlyApi: true } },
      {},
      /"Read-Only API" setting is ticked\. Untick it in TWS: File → Global Configuration → API → Settings/,
    ],
  ])("is disabled when %s", async (_name, monitorOverrides, payloadOverrides, orderOverrides, reason) => {
    const { model, source, monitor } = monitorSetUp(monitorOverrides);
    const confirmCancel = confirmYes();
    const panel = new OrdersPanel({ model, monitor, confirmCancel });
    source.applyData(monitorPayload([order({ clientId: 3, ...orderOverrides })], payloadOverrides));
    panel.render();
    const [button] = cancelButtons(panel.node);
    expect(button.disabled).toBe(true);
    expect(button.title).toMatch(reason);
    await panel.cancel(must(model.current?.payload?.orders[0]));
    expect(confirmCancel).not.toHaveBeenCalled();
    expect(monitor.cancelOrder).not.toHaveBeenCalled();
  });

  it("is disabled without a confirmation dialog", () => {
    const { model, source, monitor } = monitorSetUp();
    const panel = new OrdersPanel({ model, monitor });
    source.applyData(monitorPayload([order({ clientId: 3 })]));
    panel.render();
    expect(cancelButtons(panel.node)[0].disabled).toBe(true);
  });

  it("asks with the account, symbol, side, quantity and id, then cancels through the monitor", async () => {
    const { model, source, monitor } = monitorSetUp();
    const confirmCancel = confirmYes();
    const panel = new OrdersPanel({ model, monitor, confirmCancel });
    source.applyData(
      monitorPayload([
        order({
          orderId: 11,
          clientId: 3,
          account: "DU7654321",
          symbol: "MSFT",
          action: "SELL",
          quantity: 25,
        }),
      ]),
    );
    panel.render();
    const [button] = cancelButtons(panel.node);
    expect(button.disabled).toBe(false);
    button.click();
    await flush();
    expect(confirmCancel).toHaveBeenCalledTimes(1);
    const details = confirmCancel.mock.calls[0][0];
    expect(details.title).toBe("Cancel order 11?");
    const text = must(cancelDialogBody(details).textContent);
    for (const part of [
      "Account",
      "DU7654321",
      "Symbol",
      "MSFT",
      "Side",
      "SELL",
      "Quantity",
      "25",
      "Order id",
      "11",
    ]) {
      expect(text).toContain(part);
    }
    expect(text).toContain("Sent by the monitor kernel (client id 3 at 127.0.0.1:7497)");
    expect(monitor.cancelOrder).toHaveBeenCalledWith(11);
    expect(panel.message).toEqual({ text: "Order 11: cancel sent; status PendingCancel.", kind: "info" });
  });

  it("cancels from the keyboard: Delete on the focused row asks the same way", async () => {
    const { model, source, monitor } = monitorSetUp();
    const confirmCancel = confirmYes();
    const panel = new OrdersPanel({ model, monitor, confirmCancel });
    source.applyData(
      monitorPayload([order({ orderId: 11, clientId: 3 }), order({ orderId: 12, clientId: 3 })]),
    );
    panel.render();
    const grid = panel.workingTable.focusNode;
    grid.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown" }));
    grid.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown" }));
    grid.dispatchEvent(new KeyboardEvent("keydown", { key: "Delete" }));
    await flush();
    expect(confirmCancel.mock.calls[0][0].title).toBe("Cancel order 12?");
    expect(monitor.cancelOrder).toHaveBeenCalledWith(12);
  });

  it("does nothing when the user keeps the order", async () => {
    const { model, source, monitor } = monitorSetUp();
    const panel = new OrdersPanel({ model, monitor, confirmCancel: async () => false });
    source.applyData(monitorPayload([order({ clientId: 3 })]));
    panel.render();
    await panel.cancel(must(model.current?.payload?.orders[0]));
    expect(monitor.cancelOrder).not.toHaveBeenCalled();
  });

  it("checks again after the dialog: an order that filled meanwhile is not cancelled", async () => {
    const { model, source, monitor } = monitorSetUp();
    const confirmCancel = jest.fn(async () => {
      source.applyData(monitorPayload([order({ clientId: 3, status: "Filled" })], { seq: 2 }));
      return true;
    });
    const panel = new OrdersPanel({ model, monitor, confirmCancel });
    source.applyData(monitorPayload([order({ clientId: 3 })]));
    panel.render();
    await panel.cancel(must(model.current?.payload?.orders[0]));
    expect(monitor.cancelOrder).not.toHaveBeenCalled();
    expect(panel.message?.text).toMatch(/was not cancelled: The order is finished \(Filled\)/);
  });

  it("shows the monitor's error as text", async () => {
    const { model, source, monitor } = monitorSetUp({
      cancelOrder: jest.fn(async () => Promise.reject(new Error(`order 11 was not cancelled: ${HOSTILE}`))),
    });
    const panel = new OrdersPanel({ model, monitor, confirmCancel: confirmYes() });
    document.body.append(panel.node);
    source.applyData(monitorPayload([order({ clientId: 3 })]));
    panel.render();
    await panel.cancel(must(model.current?.payload?.orders[0]));
    const message = must(panel.node.querySelector(".jp-ibkr-Panel-message"));
    expect(message.textContent).toBe(`Order 11 was not cancelled: order 11 was not cancelled: ${HOSTILE}`);
    expect(message.querySelector("img")).toBeNull();
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
    panel.node.remove();
  });

  it("lets no payload field reach the monitor but the numeric order id, and shows them as text in the dialog", async () => {
    const { model, source, monitor } = monitorSetUp();
    const confirmCancel = confirmYes();
    const panel = new OrdersPanel({ model, monitor, confirmCancel });
    const hostile = order({
      orderId: 11,
      clientId: 3,
      account: HOSTILE,
      symbol: '"); process.exit(1); ("',
      action: "<script>window.__pwned=3</script>",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal injection, on purpose
      orderType: "`${process.exit(1)}`",
      tif: HOSTILE,
    });
    source.applyData(monitorPayload([hostile]));
    panel.render();
    await panel.cancel(must(model.current?.payload?.orders[0]));
    expect(monitor.cancelOrder).toHaveBeenCalledWith(11);
    expect((monitor.cancelOrder as jest.Mock).mock.calls[0]).toEqual([11]);
    const body = cancelDialogBody(confirmCancel.mock.calls[0][0]);
    expect(body.querySelector("img, script")).toBeNull();
    expect(body.textContent).toContain(HOSTILE);
    expect(body.textContent).toContain('"); process.exit(1); ("');
  });

  it("warns in the dialog when the account is live", () => {
    const p = monitorPayload([order({ clientId: 3 })]);
    p.source = { ...p.source, live: true, broker: "ibkr-live" };
    const body = cancelDialogBody(cancelDetails(p.orders[0], p));
    expect(body.querySelector(".jp-ibkr-CancelDialog-live")?.textContent).toMatch(/LIVE account/);
  });
});

describe("done today", () => {
  afterEach(() => jest.useRealTimers());

  it("fades a finished order out of the working list, listing it under done today at once", () => {
    jest.useFakeTimers();
    const { model, source } = setUp();
    const panel = new OrdersPanel({ model });
    const ts = "2026-11-24T15:00:00.000Z";
    source.applyData(payload({ ts, orders: [order({ orderId: 7 }), order({ orderId: 8 })] }));
    panel.render();
    const working = must(panel.node.querySelector<HTMLElement>(".jp-ibkr-Orders-working"));
    const done = must(panel.node.querySelector<HTMLElement>(".jp-ibkr-Orders-done"));
    const row = (root: HTMLElement, id: string) =>
      must(
        [...root.querySelectorAll<HTMLElement>("tr.jp-ibkr-Table-row")].find(
          (tr) => tr.querySelector('td[data-column="orderId"]')?.textContent === id,
        ),
      );
    const before = row(working, "7");
    expect(before.classList.contains(LEAVING_CLASS)).toBe(false);

    source.applyData(
      payload({
        seq: 2,
        ts,
        orders: [order({ orderId: 7, status: "Filled", filled: 10, remaining: 0 }), order({ orderId: 8 })],
      }),
    );
    panel.render();
    const leaving = row(working, "7");
    expect(leaving).toBe(before); // the same element: its class changes, so the CSS transition runs
    expect(leaving.classList.contains(LEAVING_CLASS)).toBe(true);
    expect(row(working, "8").classList.contains(LEAVING_CLASS)).toBe(false);
    expect(row(done, "7").classList.contains(ARRIVED_CLASS)).toBe(true);
    expect(working.querySelector("h3")?.textContent).toBe("Working (1)");
    expect(done.querySelector("h3")?.textContent).toBe("Done today (1)");

    jest.advanceTimersByTime(FADE_MS);
    panel.render();
    expect(cellTexts(working, "orderId")).toEqual(["8"]);
    expect(cellTexts(done, "orderId")).toEqual(["7"]);
    expect(row(done, "7").classList.contains(ARRIVED_CLASS)).toBe(false);
  });

  it("does not fade orders that were already done, or that changed source", () => {
    jest.useFakeTimers();
    const { model, source } = setUp();
    const panel = new OrdersPanel({ model });
    source.applyData(payload({ orders: [order({ orderId: 7, status: "Filled" })] }));
    panel.render();
    expect(panel.node.querySelector(`.${LEAVING_CLASS}`)).toBeNull();
    const other = new SourceModel("b.ipynb");
    other.applyData(payload({ orders: [order({ orderId: 7, status: "Submitted" })] }));
    model.setSourceModel("notebook", other);
    panel.render();
    other.applyData(payload({ seq: 2, orders: [order({ orderId: 7, status: "Cancelled" })] }));
    panel.render();
    expect(panel.node.querySelector(`.${LEAVING_CLASS}`)).not.toBeNull(); // a real change on the new source
    model.setSourceModel("notebook", source);
    panel.render();
    expect(panel.node.querySelector(`.${LEAVING_CLASS}`)).toBeNull();
    panel.dispose();
  });
});
