/**
 * Tables of broker rows: column definitions, sorting and filtering (pure, so they are tested without a
 * DOM), and a small DOM table. Every value is written with textContent: a symbol or a message from the
 * broker that contains markup shows literally.
 */
import type { FeedOrder, FeedPosition } from "./payload";

export type CellValue = string | number | null;

export interface Column<T> {
  id: string;
  label: string;
  value(row: T): CellValue;
  /** Text for the cell; default: the value as is, numbers with up to 4 decimals, null as empty. */
  format?(value: CellValue): string;
  numeric?: boolean;
  /** Coloured by sign (P&L). */
  signed?: boolean;
}

export interface TableViewState {
  /** A column id, or null for the rows' own order. */
  sortBy: string | null;
  descending: boolean;
  filter: string;
}

const NUMBER = new Intl.NumberFormat(undefined, { maximumFractionDigits: 4 });
const MONEY = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function formatCell(value: CellValue): string {
  if (value === null) return "";
  return typeof value === "number" ? NUMBER.format(value) : value;
}

export function formatMoney(value: CellValue): string {
  return typeof value === "number" ? MONEY.format(value) : formatCell(value);
}

function formatSignedMoney(value: CellValue): string {
  return typeof value === "number" && value > 0 ? `+${MONEY.format(value)}` : formatMoney(value);
}

function formatClock(value: CellValue): string {
  if (typeof value !== "string") return formatCell(value);
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleTimeString();
}

function text<T>(id: string, label: string, value: (row: T) => CellValue): Column<T> {
  return { id, label, value };
}

function num<T>(id: string, label: string, value: (row: T) => CellValue, format = formatCell): Column<T> {
  return { id, label, value, format, numeric: true };
}

function pnl<T>(id: string, label: string, value: (row: T) => CellValue): Column<T> {
  return { id, label, value, format: formatSignedMoney, numeric: true, signed: true };
}

export const POSITION_COLUMNS: ReadonlyArray<Column<FeedPosition>> = [
  text("account", "Account", (p) => p.account),
  text("symbol", "Symbol", (p) => p.localSymbol || p.symbol),
  text("secType", "Type", (p) => p.secType),
  text("currency", "Ccy", (p) => p.currency),
  num("quantity", "Qty", (p) => p.quantity),
  num("avgCost", "Avg cost", (p) => p.avgCost, formatMoney),
  num("marketPrice", "Price", (p) => p.marketPrice, formatMoney),
  num("marketValue", "Value", (p) => p.marketValue, formatMoney),
  pnl("unrealizedPnl", "Unrealized", (p) => p.unrealizedPnl),
  pnl("realizedPnl", "Realized", (p) => p.realizedPnl),
];

export const ORDER_COLUMNS: ReadonlyArray<Column<FeedOrder>> = [
  num("orderId", "Id", (o) => o.orderId),
  num("clientId", "Client", (o) => o.clientId),
  text("account", "Account", (o) => o.account),
  text("symbol", "Symbol", (o) => o.symbol),
  text("action", "Side", (o) => o.action),
  num("quantity", "Qty", (o) => o.quantity),
  text("orderType", "Type", (o) => o.orderType),
  num("lmtPrice", "Limit", (o) => o.lmtPrice, formatMoney),
  num("auxPrice", "Stop", (o) => o.auxPrice, formatMoney),
  text("tif", "TIF", (o) => o.tif),
  text("status", "Status", (o) => o.status),
  num("filled", "Filled", (o) => o.filled),
  num("remaining", "Left", (o) => o.remaining),
  num("avgFillPrice", "Avg fill", (o) => o.avgFillPrice, formatMoney),
  { id: "updatedAt", label: "Updated", value: (o) => o.updatedAt, format: formatClock },
];

/** The columns to show, in the settings' order; unknown ids are skipped, none known means all. */
export function pickColumns<T>(
  all: ReadonlyArray<Column<T>>,
  ids: readonly string[] | undefined,
): Column<T>[] {
  const byId = new Map(all.map((column) => [column.id, column]));
  const picked = (ids ?? []).flatMap((id) => byId.get(id) ?? []);
  return picked.length ? picked : [...all];
}

const COLLATOR = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** Null and empty sort last whichever the direction: a missing price is never "the smallest". */
function compare(a: CellValue, b: CellValue, descending: boolean): number {
  const aMissing = a === null || a === "";
  const bMissing = b === null || b === "";
  if (aMissing || bMissing) return aMissing === bMissing ? 0 : aMissing ? 1 : -1;
  const order =
    typeof a === "number" && typeof b === "number" ? a - b : COLLATOR.compare(String(a), String(b));
  return descending ? -order : order;
}

/**
 * The rows whose text matches every word of the filter (case-insensitive, over all the given columns'
 * displayed text), sorted by the chosen column. Stable: equal rows keep the feed's order.
 */
export function sortAndFilter<T>(
  rows: readonly T[],
  columns: ReadonlyArray<Column<T>>,
  state: TableViewState,
): T[] {
  const words = state.filter.toLowerCase().split(/\s+/).filter(Boolean);
  let result = words.length
    ? rows.filter((row) => {
        const haystack = columns
          .map((column) => (column.format ?? formatCell)(column.value(row)))
          .join("\u0000")
          .toLowerCase();
        return words.every((word) => haystack.includes(word));
      })
    : [...rows];
  const column = columns.find((c) => c.id === state.sortBy);
  if (column) result = result.sort((a, b) => compare(column.value(a), column.value(b), state.descending));
  return result;
}

/** Clicking a header: first ascending (numbers descending, largest first), then the other way. */
export function nextSort<T>(state: TableViewState, column: Column<T>): TableViewState {
  if (state.sortBy === column.id) return { ...state, descending: !state.descending };
  return { ...state, sortBy: column.id, descending: Boolean(column.numeric) };
}

/**
 * Rows rendered at most per table. Beyond it the table says how many are hidden and the filter narrows
 * them; virtualized scrolling is what large books need eventually.
 */
export const MAX_RENDERED_ROWS = 500;

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  content?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

export interface RenderTableOptions<T> {
  columns: ReadonlyArray<Column<T>>;
  rows: readonly T[];
  state: TableViewState;
  onSort(column: Column<T>): void;
  /** Extra classes for a row (a done order fades). */
  rowClass?(row: T): string | undefined;
  caption?: string;
}

/** A fresh table element for already sorted and filtered rows. */
export function renderTable<T>(options: RenderTableOptions<T>): HTMLTableElement {
  const { columns, rows, state } = options;
  const table = element("table", "jp-ibkr-Table");
  if (options.caption) table.append(element("caption", "jp-ibkr-Table-caption", options.caption));
  const head = element("thead");
  const headRow = element("tr");
  for (const column of columns) {
    const th = element("th", column.numeric ? "jp-ibkr-numeric" : undefined);
    const sorted = state.sortBy === column.id;
    th.setAttribute("aria-sort", sorted ? (state.descending ? "descending" : "ascending") : "none");
    const button = element(
      "button",
      "jp-ibkr-Table-sort",
      column.label + (sorted ? (state.descending ? " ▼" : " ▲") : ""),
    );
    button.type = "button";
    button.dataset.column = column.id;
    button.addEventListener("click", () => options.onSort(column));
    th.append(button);
    headRow.append(th);
  }
  head.append(headRow);
  const body = element("tbody");
  for (const row of rows.slice(0, MAX_RENDERED_ROWS)) {
    const tr = element("tr");
    const extra = options.rowClass?.(row);
    if (extra) tr.className = extra;
    for (const column of columns) {
      const value = column.value(row);
      const classes = [column.numeric ? "jp-ibkr-numeric" : ""];
      if (column.signed && typeof value === "number" && value !== 0) {
        classes.push(value > 0 ? "jp-ibkr-positive" : "jp-ibkr-negative");
      }
      const td = element(
        "td",
        classes.filter(Boolean).join(" ") || undefined,
        (column.format ?? formatCell)(value),
      );
      td.dataset.column = column.id;
      tr.append(td);
    }
    body.append(tr);
  }
  table.append(head, body);
  if (rows.length > MAX_RENDERED_ROWS) {
    const foot = element("tfoot");
    const tr = element("tr");
    const td = element(
      "td",
      "jp-ibkr-Table-more",
      `${rows.length - MAX_RENDERED_ROWS} more rows: filter to narrow them`,
    );
    td.colSpan = columns.length;
    tr.append(td);
    foot.append(tr);
    table.append(foot);
  }
  return table;
}
