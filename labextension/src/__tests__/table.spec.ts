import type { FeedPosition } from "../payload";
import {
  DEFAULT_ROW_HEIGHT,
  nextSort,
  ORDER_COLUMNS,
  OVERSCAN_ROWS,
  POSITION_COLUMNS,
  pickColumns,
  type RowAction,
  sortAndFilter,
  type TableViewState,
  VirtualTable,
} from "../table";
import { must, position } from "./fixtures";

const rows: FeedPosition[] = [
  position({ symbol: "MSFT", localSymbol: "MSFT", quantity: 5, unrealizedPnl: -20, account: "DU1" }),
  position({ symbol: "AAPL", localSymbol: "AAPL", quantity: 100, unrealizedPnl: null, account: "DU2" }),
  position({
    symbol: "ES",
    localSymbol: "ESZ6",
    secType: "FUT",
    quantity: -2,
    unrealizedPnl: 300,
    account: "DU1",
  }),
  position({ symbol: "AAPL", localSymbol: "AAPL", quantity: 10, unrealizedPnl: 5, account: "DU1" }),
];
const symbols = (list: FeedPosition[]) => list.map((p) => `${p.account}:${p.localSymbol}`);

describe("sortAndFilter", () => {
  it("keeps the feed's order with no sort and no filter", () => {
    expect(sortAndFilter(rows, POSITION_COLUMNS, { sortBy: null, descending: false, filter: "" })).toEqual(
      rows,
    );
  });

  it("sorts text ascending and descending, stably", () => {
    const asc = sortAndFilter(rows, POSITION_COLUMNS, { sortBy: "symbol", descending: false, filter: "" });
    expect(symbols(asc)).toEqual(["DU2:AAPL", "DU1:AAPL", "DU1:ESZ6", "DU1:MSFT"]);
    const desc = sortAndFilter(rows, POSITION_COLUMNS, { sortBy: "symbol", descending: true, filter: "" });
    expect(symbols(desc)).toEqual(["DU1:MSFT", "DU1:ESZ6", "DU2:AAPL", "DU1:AAPL"]);
  });

  it("sorts numbers as numbers, missing values last either way", () => {
    const asc = sortAndFilter(rows, POSITION_COLUMNS, {
      sortBy: "unrealizedPnl",
      descending: false,
      filter: "",
    });
    expect(asc.map((p) => p.unrealizedPnl)).toEqual([-20, 5, 300, null]);
    const desc = sortAndFilter(rows, POSITION_COLUMNS, {
      sortBy: "unrealizedPnl",
      descending: true,
      filter: "",
    });
    expect(desc.map((p) => p.unrealizedPnl)).toEqual([300, 5, -20, null]);
    const qty = sortAndFilter(rows, POSITION_COLUMNS, { sortBy: "quantity", descending: false, filter: "" });
    expect(qty.map((p) => p.quantity)).toEqual([-2, 5, 10, 100]);
  });

  it("filters case-insensitively on every word, over the displayed text", () => {
    const state = (filter: string) => ({ sortBy: null, descending: false, filter });
    expect(symbols(sortAndFilter(rows, POSITION_COLUMNS, state("aapl")))).toEqual(["DU2:AAPL", "DU1:AAPL"]);
    expect(symbols(sortAndFilter(rows, POSITION_COLUMNS, state("  aapl   du1 ")))).toEqual(["DU1:AAPL"]);
    expect(symbols(sortAndFilter(rows, POSITION_COLUMNS, state("fut")))).toEqual(["DU1:ESZ6"]);
    expect(sortAndFilter(rows, POSITION_COLUMNS, state("nothing-like-this"))).toEqual([]);
  });

  it("does not change the rows it was given", () => {
    const copy = [...rows];
    sortAndFilter(rows, POSITION_COLUMNS, { sortBy: "quantity", descending: true, filter: "" });
    expect(rows).toEqual(copy);
  });
});

describe("nextSort", () => {
  const symbol = must(POSITION_COLUMNS.find((c) => c.id === "symbol"));
  const qty = must(POSITION_COLUMNS.find((c) => c.id === "quantity"));
  it("starts text ascending, numbers descending, and flips on a second click", () => {
    const start = { sortBy: null, descending: false, filter: "x" };
    expect(nextSort(start, symbol)).toEqual({ sortBy: "symbol", descending: false, filter: "x" });
    expect(nextSort(start, qty)).toEqual({ sortBy: "quantity", descending: true, filter: "x" });
    expect(nextSort(nextSort(start, symbol), symbol).descending).toBe(true);
  });
});

describe("pickColumns", () => {
  it("follows the settings' order, skips unknown ids, and falls back to all", () => {
    expect(pickColumns(ORDER_COLUMNS, ["status", "symbol", "nope"]).map((c) => c.id)).toEqual([
      "status",
      "symbol",
    ]);
    expect(pickColumns(ORDER_COLUMNS, []).length).toBe(ORDER_COLUMNS.length);
    expect(pickColumns(ORDER_COLUMNS, ["nope"]).length).toBe(ORDER_COLUMNS.length);
  });
});

const NO_VIEW: TableViewState = { sortBy: null, descending: false, filter: "" };

function book(count: number): FeedPosition[] {
  return Array.from({ length: count }, (_, i) =>
    position({
      conId: i + 1,
      symbol: `S${i}`,
      localSymbol: `S${i}`,
      quantity: i,
      unrealizedPnl: i % 2 ? i : -i,
    }),
  );
}

function positionsTable(extra: Partial<ConstructorParameters<typeof VirtualTable<FeedPosition>>[0]> = {}) {
  const table = new VirtualTable<FeedPosition>({
    columns: POSITION_COLUMNS,
    rowKey: (p) => String(p.conId),
    onSort() {},
    label: "Positions",
    ...extra,
  });
  document.body.append(table.node);
  return table;
}

function renderedRows(table: VirtualTable<FeedPosition>): HTMLTableRowElement[] {
  return [...table.node.querySelectorAll<HTMLTableRowElement>("tr.jp-ibkr-Table-row")];
}

function shownSymbols(table: VirtualTable<FeedPosition>): string[] {
  return [...table.node.querySelectorAll('td[data-column="symbol"]')].map((td) => td.textContent ?? "");
}

function scrollTo(table: VirtualTable<FeedPosition>, top: number) {
  table.node.scrollTop = top;
  table.node.dispatchEvent(new Event("scroll"));
}

describe("VirtualTable", () => {
  afterEach(() => document.body.replaceChildren());

  it("renders sortable headers and calls back on click", () => {
    const onSort = jest.fn();
    const table = positionsTable({ onSort });
    table.setRows(rows, { sortBy: "symbol", descending: false, filter: "" });
    must(table.node.querySelector<HTMLButtonElement>('button[data-column="quantity"]')).click();
    expect(onSort).toHaveBeenCalledWith(expect.objectContaining({ id: "quantity" }));
    expect(table.node.querySelector('th[aria-sort="ascending"]')?.textContent).toBe("Symbol ▲");
    expect(renderedRows(table)).toHaveLength(rows.length);
  });

  it("reads the layout's heights once, not on every update, until a resize says they changed", () => {
    // A resize observer as the browser's: the table keeps what it measured until it is called.
    let resized: () => void = () => {};
    const global = globalThis as { ResizeObserver?: unknown };
    const original = global.ResizeObserver;
    global.ResizeObserver = class {
      constructor(callback: () => void) {
        resized = callback;
      }
      observe(): void {}
      disconnect(): void {}
    };
    try {
      const table = positionsTable();
      const head = must(table.node.querySelector("thead"));
      const reads = jest.spyOn(head, "getBoundingClientRect").mockReturnValue({ height: 24 } as DOMRect);
      jest.spyOn(table.node, "clientHeight", "get").mockReturnValue(400);
      for (let i = 0; i < 5; i++) table.setRows(rows, NO_VIEW);
      expect(reads).toHaveBeenCalledTimes(1);
      resized();
      table.setRows(rows, NO_VIEW);
      expect(reads).toHaveBeenCalledTimes(2);
      table.dispose();
    } finally {
      global.ResizeObserver = original;
    }
  });

  it("keeps its header buttons across updates, so a focused one stays focused", () => {
    const table = positionsTable();
    table.setRows(rows, NO_VIEW);
    const button = must(table.node.querySelector<HTMLButtonElement>('button[data-column="symbol"]'));
    table.setRows(rows, { sortBy: "symbol", descending: true, filter: "" });
    expect(table.node.querySelector('button[data-column="symbol"]')).toBe(button);
    expect(button.textContent).toBe("Symbol ▼");
  });

  it("colours P&L by sign", () => {
    const table = positionsTable();
    table.setRows(rows, NO_VIEW);
    const pnl = [...table.node.querySelectorAll('td[data-column="unrealizedPnl"]')];
    expect(pnl[0].className).toContain("jp-ibkr-negative");
    expect(pnl[2].className).toContain("jp-ibkr-positive");
    expect(pnl[2].textContent).toMatch(/^\+300/);
  });

  it("holds only the rows in view for 10,000 rows, with spacers for the rest", () => {
    const table = positionsTable();
    const all = book(10_000);
    const started = performance.now();
    table.setRows(all, NO_VIEW);
    const elapsed = performance.now() - started;
    const dom = renderedRows(table);
    expect(dom.length).toBeLessThan(60);
    expect(dom.length).toBeGreaterThan(10);
    expect(shownSymbols(table)[0]).toBe("S0");
    const [top, bottom] = [...table.node.querySelectorAll<HTMLTableRowElement>("tr.jp-ibkr-Table-spacer")];
    expect(top.hidden).toBe(true);
    expect(Number.parseFloat(must(bottom.querySelector("td")).style.height)).toBe(
      (10_000 - dom.length) * DEFAULT_ROW_HEIGHT,
    );
    expect(table.node.querySelector("table")?.getAttribute("aria-rowcount")).toBe("10001");
    expect(elapsed).toBeLessThan(500); // jsdom; the benchmark measures the browser
  });

  it("shows the right rows after a scroll, and never more than a window of them", () => {
    const table = positionsTable();
    table.setRows(book(10_000), NO_VIEW);
    scrollTo(table, 5000 * DEFAULT_ROW_HEIGHT);
    const { first, last } = table.window;
    expect(first).toBe(5000 - OVERSCAN_ROWS);
    expect(last - first).toBeLessThan(60);
    const dom = renderedRows(table);
    expect(dom[0].dataset.index).toBe(String(first));
    expect(dom[0].getAttribute("aria-rowindex")).toBe(String(first + 2));
    expect(shownSymbols(table)).toContain("S5000");
    expect(shownSymbols(table)[OVERSCAN_ROWS]).toBe("S5000");
    const top = must(table.node.querySelector<HTMLElement>("tr.jp-ibkr-Table-spacer td"));
    expect(Number.parseFloat(top.style.height)).toBe(first * DEFAULT_ROW_HEIGHT);
    scrollTo(table, 9_999 * DEFAULT_ROW_HEIGHT); // to the end
    expect(table.window.last).toBe(10_000);
    expect(shownSymbols(table).at(-1)).toBe("S9999");
    expect(renderedRows(table).length).toBeLessThan(60);
  });

  it("sorts and filters the full set, not the rows in view", () => {
    const table = positionsTable();
    const all = book(10_000);
    const bySize: TableViewState = { sortBy: "quantity", descending: true, filter: "" };
    table.setRows(sortAndFilter(all, POSITION_COLUMNS, bySize), bySize);
    expect(shownSymbols(table)[0]).toBe("S9999");
    const filtered: TableViewState = { ...bySize, filter: "s9998" };
    scrollTo(table, 3000 * DEFAULT_ROW_HEIGHT);
    table.setRows(sortAndFilter(all, POSITION_COLUMNS, filtered), filtered);
    expect(shownSymbols(table)).toEqual(["S9998"]);
    expect(table.node.scrollTop).toBe(0); // clamped to the shorter list
    table.setRows([], filtered);
    expect(table.node.querySelector(".jp-ibkr-Table-emptyRow")?.textContent).toBe(
      "No rows match the filter.",
    );
  });

  it("moves the focused row with the keyboard and runs Enter on it", () => {
    const onActivate = jest.fn();
    const table = positionsTable({ onActivate });
    table.setRows(book(1_000), NO_VIEW);
    const key = (k: string) =>
      table.focusNode.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));
    key("ArrowDown");
    expect(table.activeIndex).toBe(0);
    key("ArrowDown");
    key("ArrowDown");
    key("ArrowUp");
    expect(table.activeIndex).toBe(1);
    const active = must(table.node.querySelector<HTMLElement>("tr.jp-mod-active"));
    expect(active.dataset.index).toBe("1");
    expect(table.focusNode.getAttribute("aria-activedescendant")).toBe(active.id);
    expect(table.focusNode.getAttribute("role")).toBe("grid");
    key("Enter");
    expect(onActivate).toHaveBeenCalledWith(expect.objectContaining({ symbol: "S1" }));
    key("End");
    expect(table.activeIndex).toBe(999);
    expect(shownSymbols(table)).toContain("S999"); // scrolled into view
    expect(table.node.scrollTop).toBeGreaterThan(0);
    key("Home");
    expect(table.activeIndex).toBe(0);
    expect(table.node.scrollTop).toBe(0);
  });

  it("keeps the focused row when rows move, and ignores keys on its header buttons", () => {
    const onActivate = jest.fn();
    const table = positionsTable({ onActivate });
    const all = book(100);
    table.setRows(all, NO_VIEW);
    renderedRows(table)[3].click();
    expect(table.activeIndex).toBe(3);
    expect(document.activeElement).toBe(table.focusNode);
    table.setRows([...all].reverse(), NO_VIEW);
    expect(table.activeIndex).toBe(96); // still S3
    const header = must(table.node.querySelector("button"));
    header.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(onActivate).not.toHaveBeenCalled();
  });

  it("runs a row's action from its button, only when enabled", () => {
    const run = jest.fn();
    const action: RowAction<FeedPosition> = {
      label: "Code",
      text: () => "Copy",
      state: (p) => ({ enabled: p.quantity > 0, title: p.quantity > 0 ? "copy it" : "not this one" }),
      run,
    };
    const table = positionsTable({ action });
    table.setRows(book(3), NO_VIEW);
    const buttons = [...table.node.querySelectorAll<HTMLButtonElement>("button.jp-ibkr-Table-action")];
    expect(buttons.map((b) => [b.textContent, b.disabled, b.title])).toEqual([
      ["Copy", true, "not this one"],
      ["Copy", false, "copy it"],
      ["Copy", false, "copy it"],
    ]);
    buttons[0].click();
    expect(run).not.toHaveBeenCalled();
    buttons[2].click();
    expect(run).toHaveBeenCalledWith(expect.objectContaining({ symbol: "S2" }));
  });
});
