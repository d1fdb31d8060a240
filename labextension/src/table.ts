/**
 * Tables of broker rows: column definitions, sorting and filtering (pure, so they are tested without a
 * DOM), and a virtualized DOM table that holds only the rows in view. Every value is written with
 * textContent: a symbol or a message from the broker that contains markup shows literally.
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
  pnl("dailyPnl", "Daily", (p) => p.dailyPnl),
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

/** A button at the end of every row (copy as code, cancel). */
export interface RowAction<T> {
  /** The column's header. */
  label: string;
  /** The button's text for a row. */
  text(row: T): string;
  /** Whether the row's button works, and its tooltip (the reason when it does not). */
  state(row: T): { enabled: boolean; title: string };
  run(row: T): void;
}

export interface VirtualTableOptions<T> {
  columns: ReadonlyArray<Column<T>>;
  /** Identifies a row across snapshots (keeps the focused row when rows move). */
  rowKey(row: T): string;
  onSort(column: Column<T>): void;
  /** Extra classes for a row (a finished order fading out). */
  rowClass?(row: T): string | undefined;
  /** Enter on the focused row. */
  onActivate?(row: T): void;
  /** Other keys on the focused row, by KeyboardEvent.key ("Delete": cancel an order). */
  keyActions?: Readonly<Record<string, (row: T) => void>>;
  action?: RowAction<T>;
  /** For screen readers: "Positions", "Working orders". */
  label: string;
  /** Shown in the body when there are no rows (a filter that matches nothing). */
  emptyText?: string;
}

/** Assumed row height until a rendered row can be measured (jsdom never measures). */
export const DEFAULT_ROW_HEIGHT = 24;
/** Rows rendered beyond each edge of the view, so that a scroll step rarely shows a gap. */
export const OVERSCAN_ROWS = 8;
/** A table keeps room for this many rows (when it has them) however the panel is squeezed. */
export const MIN_VISIBLE_ROWS = 4;
/** The view's height when the element has none yet (hidden, not attached, jsdom). */
const FALLBACK_VIEW_HEIGHT = 600;

let tableCounter = 0;

/**
 * A table that renders only the rows in view (plus a few on each side) between two spacer rows that
 * stand in for the others, so 10,000 rows cost what 50 do. The node is its own scroll container.
 * Rows are sorted and filtered by the caller over the full set; the table only windows them.
 *
 * Keyboard: the table takes focus as one stop; arrow keys, Page Up/Down, Home and End move the
 * focused row (announced with aria-activedescendant), Enter runs `onActivate` on it, and the keys of
 * `keyActions` their action.
 */
export class VirtualTable<T> {
  constructor(private readonly options: VirtualTableOptions<T>) {
    tableCounter += 1;
    this.id = `jp-ibkr-table-${tableCounter}`;
    this.node = element("div", "jp-ibkr-Table-viewport");
    this.table = element("table", "jp-ibkr-Table");
    // A grid with aria-rowcount/aria-rowindex: the ARIA pattern for rows that are not all in the DOM.
    this.table.setAttribute("role", "grid");
    this.table.setAttribute("aria-label", options.label);
    this.table.tabIndex = 0;
    this.head = element("thead");
    this.headRow = element("tr");
    this.headRow.setAttribute("aria-rowindex", "1");
    this.head.append(this.headRow);
    this.body = element("tbody");
    this.topSpacer = this.spacer();
    this.bottomSpacer = this.spacer();
    this.emptyRow = element("tr", "jp-ibkr-Table-emptyRow");
    const emptyCell = element("td", undefined, options.emptyText ?? "No rows match the filter.");
    emptyCell.colSpan = this.columnCount;
    this.emptyRow.append(emptyCell);
    this.body.append(this.topSpacer, this.bottomSpacer);
    this.table.append(this.head, this.body);
    this.node.append(this.table);

    this.node.addEventListener("scroll", () => this.refresh());
    this.table.addEventListener("keydown", (event) => this.onKeyDown(event));
    this.body.addEventListener("click", (event) => this.onClick(event));
    if (typeof ResizeObserver !== "undefined") {
      this.resizeObserver = new ResizeObserver(() => {
        this.heights = {};
        this.refresh();
      });
      this.resizeObserver.observe(this.node);
      this.resizeObserver.observe(this.head);
    }
    this.buildHead();
    this.renderHead({ sortBy: null, descending: false, filter: "" });
  }

  /** The scroll container; append it where the table goes. */
  readonly node: HTMLDivElement;

  /** The table element: it takes the keyboard focus (one tab stop) for row navigation. */
  get focusNode(): HTMLTableElement {
    return this.table;
  }

  /** All rows, as last given (sorted and filtered). */
  get rows(): readonly T[] {
    return this._rows;
  }

  /** The rows currently in the DOM: [first, last). */
  get window(): { first: number; last: number } {
    return { first: this.first, last: this.last };
  }

  /** The focused row's index, or -1. */
  get activeIndex(): number {
    return this._activeIndex;
  }

  get rowHeight(): number {
    return this._rowHeight;
  }

  /** New rows (already sorted and filtered) and the view state the headers show. */
  setRows(rows: readonly T[], state: TableViewState): void {
    this._rows = rows;
    this.renderHead(state);
    this.table.setAttribute("aria-rowcount", String(rows.length + 1));
    if (this.activeKey !== null) {
      const key = this.activeKey;
      this._activeIndex = rows.findIndex((row) => this.options.rowKey(row) === key);
      if (this._activeIndex < 0) this.activeKey = null;
    }
    this.render(true);
    this.node.style.minHeight = `${Math.ceil(Math.min(rows.length, MIN_VISIBLE_ROWS) * this._rowHeight + this.headHeight())}px`;
  }

  /** Re-renders the rows in view if the view moved (scroll, resize); also after the panel is shown. */
  refresh(): void {
    this.render(false);
  }

  /** Focuses row `index` (clamped), scrolling it into view. */
  setActive(index: number): void {
    const count = this._rows.length;
    if (!count) return;
    const next = Math.max(0, Math.min(count - 1, index));
    this._activeIndex = next;
    this.activeKey = this.options.rowKey(this._rows[next] as T);
    const top = next * this._rowHeight;
    const headHeight = this.headHeight();
    const view = this.viewHeight() - headHeight;
    if (top < this.node.scrollTop) this.node.scrollTop = top;
    else if (top + this._rowHeight > this.node.scrollTop + view) {
      this.node.scrollTop = top + this._rowHeight - view;
    }
    this.render(true);
  }

  dispose(): void {
    this.resizeObserver?.disconnect();
    this.resizeObserver = null;
  }

  private get columnCount(): number {
    return this.options.columns.length + (this.options.action ? 1 : 0);
  }

  private spacer(): HTMLTableRowElement {
    const row = element("tr", "jp-ibkr-Table-spacer");
    row.setAttribute("aria-hidden", "true");
    const cell = element("td");
    cell.colSpan = this.columnCount;
    row.append(cell);
    return row;
  }

  /** The header cells, built once: re-creating them would drop the focus from a sort button. */
  private buildHead(): void {
    const cells: HTMLTableCellElement[] = [];
    for (const column of this.options.columns) {
      const th = element("th", column.numeric ? "jp-ibkr-numeric" : undefined);
      th.scope = "col";
      const button = element("button", "jp-ibkr-Table-sort", column.label);
      button.type = "button";
      button.dataset.column = column.id;
      button.addEventListener("click", () => this.options.onSort(column));
      th.append(button);
      cells.push(th);
    }
    if (this.options.action) {
      const th = element("th", "jp-ibkr-Table-actionHead", this.options.action.label);
      th.scope = "col";
      cells.push(th);
    }
    this.headRow.replaceChildren(...cells);
  }

  private renderHead(state: TableViewState): void {
    this.options.columns.forEach((column, c) => {
      const th = this.headRow.children[c] as HTMLTableCellElement;
      const sorted = state.sortBy === column.id;
      th.setAttribute("aria-sort", sorted ? (state.descending ? "descending" : "ascending") : "none");
      const text = column.label + (sorted ? (state.descending ? " ▼" : " ▲") : "");
      const button = th.firstChild as HTMLButtonElement;
      if (button.textContent !== text) button.textContent = text;
    });
  }

  private viewHeight(): number {
    const height = this.heights.view ?? this.keep("view", this.node.clientHeight);
    return height || FALLBACK_VIEW_HEIGHT;
  }

  private headHeight(): number {
    return this.heights.head ?? this.keep("head", this.head.getBoundingClientRect().height);
  }

  /** Keeps a height once laid out, while a resize observer will say when it changes. */
  private keep(which: "view" | "head", height: number): number {
    if (this.resizeObserver && height > 0) this.heights[which] = height;
    return height || 0;
  }

  /** Computes the window and re-renders when it moved or when `force` (new rows, new focus). */
  private render(force: boolean): void {
    const count = this._rows.length;
    const height = this._rowHeight;
    const headHeight = this.headHeight();
    const view = this.viewHeight();
    // When the rows shrank (a filter), the old scroll offset may lie past the end.
    const maxScroll = Math.max(0, count * height + headHeight - view);
    if (this.node.scrollTop > maxScroll) this.node.scrollTop = maxScroll;
    const scrollTop = this.node.scrollTop;
    const first = Math.max(0, Math.min(count, Math.floor(scrollTop / height) - OVERSCAN_ROWS));
    const last = Math.max(
      first,
      Math.min(count, Math.ceil((scrollTop + view - headHeight) / height) + OVERSCAN_ROWS),
    );
    if (!force && first === this.first && last === this.last) return;
    this.first = first;
    this.last = last;
    this.renderRows();
    this.measure();
  }

  private renderRows(): void {
    const { first, last } = this;
    const count = this._rows.length;
    const height = this._rowHeight;
    (this.topSpacer.firstChild as HTMLElement).style.height = `${first * height}px`;
    (this.bottomSpacer.firstChild as HTMLElement).style.height = `${(count - last) * height}px`;
    this.topSpacer.hidden = first === 0;
    this.bottomSpacer.hidden = last === count;
    const needed = last - first;
    while (this.pool.length < needed) this.pool.push(this.createRow());
    const rows = this.pool.slice(0, needed);
    for (let k = 0; k < needed; k++) this.fillRow(rows[k] as HTMLTableRowElement, first + k);
    const children: HTMLTableRowElement[] = [this.topSpacer, ...rows, this.bottomSpacer];
    if (count === 0) children.splice(1, 0, this.emptyRow);
    // Only touch the body when its rows changed: re-inserting rows would restart their transitions.
    const current = this.body.children;
    const same = current.length === children.length && children.every((child, i) => current[i] === child);
    if (!same) this.body.replaceChildren(...children);
    const active = this._activeIndex >= first && this._activeIndex < last;
    if (active) this.table.setAttribute("aria-activedescendant", this.rowId(this._activeIndex));
    else this.table.removeAttribute("aria-activedescendant");
  }

  private createRow(): HTMLTableRowElement {
    const tr = element("tr");
    for (const column of this.options.columns) {
      const td = element("td");
      td.dataset.column = column.id;
      tr.append(td);
    }
    if (this.options.action) {
      const td = element("td", "jp-ibkr-Table-actionCell");
      const button = element("button", "jp-ibkr-Table-action");
      button.type = "button";
      button.tabIndex = -1; // one tab stop per table: Enter on the focused row, or a click
      td.append(button);
      tr.append(td);
    }
    return tr;
  }

  private rowId(index: number): string {
    return `${this.id}-row-${index}`;
  }

  private fillRow(tr: HTMLTableRowElement, index: number): void {
    const row = this._rows[index] as T;
    const classes = ["jp-ibkr-Table-row"];
    const extra = this.options.rowClass?.(row);
    if (extra) classes.push(extra);
    const active = index === this._activeIndex;
    if (active) classes.push("jp-mod-active");
    const className = classes.join(" ");
    if (tr.className !== className) tr.className = className;
    tr.id = this.rowId(index);
    tr.dataset.index = String(index);
    tr.setAttribute("aria-rowindex", String(index + 2));
    tr.setAttribute("aria-selected", active ? "true" : "false");
    const cells = tr.children;
    this.options.columns.forEach((column, c) => {
      const td = cells[c] as HTMLTableCellElement;
      const value = column.value(row);
      let className = column.numeric ? "jp-ibkr-numeric" : "";
      if (column.signed && typeof value === "number" && value !== 0) {
        className += value > 0 ? " jp-ibkr-positive" : " jp-ibkr-negative";
      }
      if (td.className !== className.trim()) td.className = className.trim();
      const text = (column.format ?? formatCell)(value);
      if (td.textContent !== text) td.textContent = text;
    });
    const action = this.options.action;
    if (action) {
      const button = (cells[this.options.columns.length] as HTMLElement).firstChild as HTMLButtonElement;
      const { enabled, title } = action.state(row);
      button.textContent = action.text(row);
      button.disabled = !enabled;
      button.title = title;
      button.setAttribute("aria-label", `${action.text(row)}: ${title}`);
    }
  }

  /** Adopts the real row height once a row is laid out (browsers only), so the spacers are exact. */
  private measure(): void {
    if (this.measured) return;
    const row = this.pool[0];
    if (!row?.isConnected || !this.last) return;
    const height = row.getBoundingClientRect().height;
    if (!(height > 0)) return;
    this.measured = true;
    if (Math.abs(height - this._rowHeight) > 0.01) {
      this._rowHeight = height;
      this.render(true);
    }
  }

  private onKeyDown(event: KeyboardEvent): void {
    if (event.target !== this.table) return; // keys on a header button are that button's
    const page = Math.max(1, Math.floor((this.viewHeight() - this.headHeight()) / this._rowHeight) - 1);
    const current = this._activeIndex;
    let next: number | null = null;
    switch (event.key) {
      case "ArrowDown":
        next = current < 0 ? 0 : current + 1;
        break;
      case "ArrowUp":
        next = current < 0 ? 0 : current - 1;
        break;
      case "PageDown":
        next = Math.max(0, current) + page;
        break;
      case "PageUp":
        next = Math.max(0, current) - page;
        break;
      case "Home":
        next = 0;
        break;
      case "End":
        next = this._rows.length - 1;
        break;
      case "Enter":
        if (current >= 0 && this.options.onActivate) {
          event.preventDefault();
          this.options.onActivate(this._rows[current] as T);
        }
        return;
      default: {
        const run = this.options.keyActions?.[event.key];
        if (run && current >= 0) {
          event.preventDefault();
          run(this._rows[current] as T);
        }
        return;
      }
    }
    event.preventDefault();
    this.setActive(next);
  }

  private onClick(event: MouseEvent): void {
    const target = event.target as HTMLElement;
    const tr = target.closest<HTMLTableRowElement>("tr.jp-ibkr-Table-row");
    if (!tr || tr.dataset.index === undefined) return;
    const index = Number(tr.dataset.index);
    const row = this._rows[index];
    if (row === undefined) return;
    const button = target.closest("button.jp-ibkr-Table-action");
    if (button && this.options.action) {
      if (!(button as HTMLButtonElement).disabled) this.options.action.run(row);
      return;
    }
    this._activeIndex = index;
    this.activeKey = this.options.rowKey(row);
    this.table.focus();
    this.render(true);
  }

  private readonly id: string;
  private readonly table: HTMLTableElement;
  private readonly head: HTMLTableSectionElement;
  private readonly headRow: HTMLTableRowElement;
  private readonly body: HTMLTableSectionElement;
  private readonly topSpacer: HTMLTableRowElement;
  private readonly bottomSpacer: HTMLTableRowElement;
  private readonly emptyRow: HTMLTableRowElement;
  private readonly pool: HTMLTableRowElement[] = [];
  private resizeObserver: ResizeObserver | null = null;
  /**
   * The viewport's and the header's heights, read once and kept until the resize observer says they
   * changed: read after rows were written, each forced a layout, several per snapshot (40% of the
   * page's time under a fast feed).
   */
  private heights: { view?: number; head?: number } = {};
  private _rows: readonly T[] = [];
  private first = 0;
  private last = 0;
  private _rowHeight = DEFAULT_ROW_HEIGHT;
  private measured = false;
  private _activeIndex = -1;
  private activeKey: string | null = null;
}
