import type { FeedPosition } from "../payload";
import {
  MAX_RENDERED_ROWS,
  nextSort,
  ORDER_COLUMNS,
  POSITION_COLUMNS,
  pickColumns,
  renderTable,
  sortAndFilter,
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

describe("renderTable", () => {
  it("renders sortable headers and calls back on click", () => {
    const onSort = jest.fn();
    const table = renderTable({
      columns: POSITION_COLUMNS,
      rows,
      state: { sortBy: "symbol", descending: false, filter: "" },
      onSort,
    });
    const header = must(table.querySelector<HTMLButtonElement>('button[data-column="quantity"]'));
    header.click();
    expect(onSort).toHaveBeenCalledWith(expect.objectContaining({ id: "quantity" }));
    expect(table.querySelector('th[aria-sort="ascending"]')?.textContent).toBe("Symbol ▲");
    expect(table.querySelectorAll("tbody tr")).toHaveLength(rows.length);
  });

  it("colours P&L by sign", () => {
    const table = renderTable({
      columns: POSITION_COLUMNS,
      rows,
      state: { sortBy: null, descending: false, filter: "" },
      onSort() {},
    });
    const pnl = [...table.querySelectorAll('td[data-column="unrealizedPnl"]')];
    expect(pnl[0].className).toContain("jp-ibkr-negative");
    expect(pnl[2].className).toContain("jp-ibkr-positive");
    expect(pnl[2].textContent).toMatch(/^\+300/);
  });

  it("caps the rows it renders and says how many it left out", () => {
    const many = Array.from({ length: MAX_RENDERED_ROWS + 25 }, (_, i) => position({ conId: i }));
    const table = renderTable({
      columns: POSITION_COLUMNS,
      rows: many,
      state: { sortBy: null, descending: false, filter: "" },
      onSort() {},
    });
    expect(table.querySelectorAll("tbody tr")).toHaveLength(MAX_RENDERED_ROWS);
    expect(table.querySelector("tfoot")?.textContent).toBe("25 more rows: filter to narrow them");
  });
});
