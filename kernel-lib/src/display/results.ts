/**
 * Results that print well. The library returns its plain arrays and records, each with non-enumerable
 * methods added: `[util.inspect.custom]`, `toHTML()` and `toText()`, and the data conversions
 * `toRecords()`, `toCSV()` and `toDataFrame()`. So a result is data for code (JSON, spreading, `.map`
 * see nothing new) and a table for a person:
 *
 * - tslab prints a cell's last expression with console.log, i.e. through util.inspect. Inside tslab the
 *   hook sends the rich output (text/html + text/plain in one message, then any chart) and returns a
 *   one-line summary, which tslab prints under it. `await ib.positions()` shows a table.
 * - Elsewhere (Node's REPL, console.log in a script) the hook returns the plain-text table.
 * - Nested in another value, a result prints as its summary, in brackets, as Node prints `[Array]`.
 */
import { type InspectOptionsStylized, inspect } from "node:util";
import type { ConnectionStatus } from "../connection/connection";
import type { Bar, ContractInfo, WhatIfResult } from "../ib";
import type { Quote } from "../market-data/ticker";
import type { Trade } from "../orders/trade";
import type {
  AccountValue,
  Fill,
  OrderRecord,
  PnL,
  PortfolioItem,
  Position,
  PositionPnL,
} from "../state/types";
import { chartBundle, portfolioChart, priceChart } from "./charts";
import { type DataFrame, type DataRecord, toCsv, toDataFrame, toRecords, writeCsv } from "./data";
import { type Column, type TableOptions, toDataTable, toHtml, toText } from "./table";
import { displayBundle, isTslab, type MimeBundle, newLiveDisplay } from "./tslab";
import {
  accountSummaryView,
  accountView,
  barsView,
  connectionView,
  contractsView,
  contractView,
  dataOf,
  fillsView,
  openOrdersView,
  pnlView,
  portfolioView,
  positionPnlView,
  positionsView,
  quotesView,
  quoteView,
  tradesView,
  tradeView,
  type View,
  whatIfView,
} from "./views";

/** The display methods every result has; they read the result they are called on (`rows.toCSV()`). */
export interface Displayable {
  /** The HTML a notebook shows: self-contained (its own scoped stylesheet). */
  toHTML(): string;
  /** The plain-text form: aligned columns, as printed outside a notebook. */
  toText(): string;
  /**
   * The rows as plain records, keyed by the table's headers in its order (optional columns left out
   * as the table leaves them out; no totals, no rows cut). Numbers stay numbers, times are `Date`s,
   * blanks and IB's "no value" are `null`. A card (P&L, a contract) is one record.
   */
  toRecords(): DataRecord[];
  /**
   * The records as CSV (RFC 4180: CRLF lines, fields with commas, quotes or line breaks quoted;
   * times in ISO 8601, a date column's days as YYYY-MM-DD). With a path, writes the file (UTF-8) and
   * returns its absolute path.
   */
  toCSV(path?: string): string;
  /**
   * The records as an arquero table (`ColumnTable`), columns as in `toRecords()`. arquero is an
   * optional dependency loaded on first use: `npm install arquero@8` where ibkr-notebook is installed.
   * Untyped unless you name the type: `await rows.toDataFrame<import("arquero").ColumnTable>()`.
   */
  toDataFrame<T = DataFrame>(): Promise<T>;
}

/** Outputs shown with the main one, e.g. a chart rendered ahead (SVG rendering is asynchronous). */
export interface Extras {
  before?: readonly MimeBundle[];
  after?: readonly MimeBundle[];
}

/** Sends the value's outputs to the running cell; false outside tslab or if the kernel refused. */
function displayInNotebook<T>(value: T, view: View<T>, extras: Extras): boolean {
  let main: MimeBundle;
  try {
    main = { "text/html": view.html(value), "text/plain": view.text(value) };
  } catch {
    return false; // a rendering bug must not break printing: the caller falls back to text
  }
  for (const bundle of extras.before ?? []) displayBundle(bundle);
  if (!displayBundle(main)) return false;
  for (const bundle of extras.after ?? []) displayBundle(bundle);
  return true;
}

/**
 * The body of an `[util.inspect.custom]` hook: rich output and a summary line inside tslab, the text
 * form elsewhere, the summary when nested. For classes that define the hook themselves.
 */
export function inspectWith<T>(
  value: T,
  view: View<T>,
  depth: number | null | undefined,
  options: InspectOptionsStylized | undefined,
  extras: Extras = {},
): string {
  // Node passes the remaining depth: equal to options.depth only for the value being printed.
  const topLevel = options === undefined || depth === options.depth;
  if (!topLevel) {
    const summary = `[${view.summary(value)}]`;
    return options?.stylize ? options.stylize(summary, "special") : summary;
  }
  if (isTslab() && displayInNotebook(value, view, extras)) return view.summary(value);
  return view.text(value);
}

/**
 * Adds the display methods of `view` to `value` itself (non-enumerable) and returns it. The
 * methods are made once per view and shared by every value it shows (they read `this`): building
 * six closures per result took 4 µs a time, 20 µs after a garbage collection. They stay own
 * properties, not a prototype's: an array whose prototype is not Array.prototype loses V8's fast
 * paths (`.map` over 20,000 bars 4× slower) and no longer deep-equals its plain twin.
 */
export function withDisplay<T extends object>(value: T, view: View<T>, extras: Extras = {}): T & Displayable {
  Object.defineProperties(value, displayMethodsOf(view));
  if (extras.before?.length || extras.after?.length) extrasOf.set(value, extras);
  else extrasOf.delete(value);
  return value as T & Displayable;
}

/** Each view's display methods, as property descriptors ready for Object.defineProperties. */
const displayMethodsByView = new WeakMap<object, PropertyDescriptorMap>();
/** Outputs shown with a value's main one (charts), for the values that have any. */
const extrasOf = new WeakMap<object, Extras>();

function displayMethodsOf<T>(view: View<T>): PropertyDescriptorMap {
  let methods = displayMethodsByView.get(view);
  if (!methods) {
    methods = displayMethods(view);
    displayMethodsByView.set(view, methods);
  }
  return methods;
}

function displayMethods<T>(view: View<T>): PropertyDescriptorMap {
  const method = (fn: (this: T, ...args: never[]) => unknown): PropertyDescriptor => ({
    value: fn,
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return {
    [inspect.custom]: method(function (depth: number | null, options: InspectOptionsStylized) {
      return inspectWith(this, view, depth, options, extrasOf.get(this as object) ?? {});
    }),
    toHTML: method(function () {
      return view.html(this);
    }),
    toText: method(function () {
      return view.text(this);
    }),
    toRecords: method(function () {
      return toRecords(dataOf(view, this));
    }),
    toCSV: method(function (path?: string) {
      return path === undefined ? toCsv(dataOf(view, this)) : writeCsv(dataOf(view, this), path);
    }),
    toDataFrame: method(function () {
      return toDataFrame(dataOf(view, this));
    }),
  };
}

/** Any rows as a table: `asTable(rows, [{ key: "symbol", header: "Symbol" }, …])`. */
export function asTable<T extends object>(
  rows: T[],
  columns: readonly Column<T>[],
  options: TableOptions & { summary?: (rows: readonly T[]) => string } = {},
): T[] & Displayable {
  const { summary, ...tableOptions } = options;
  return withDisplay(rows, {
    html: (r) => toHtml(r, columns, tableOptions),
    text: (r) => toText(r, columns, tableOptions),
    summary: summary ?? ((r) => `${r.length} ${r.length === 1 ? "row" : "rows"}`),
    data: (r) => toDataTable(r, columns),
  });
}

// ── the library's results ───────────────────────────────────────────────────────────────────────

export function asPositions(rows: Position[]): Position[] & Displayable {
  return withDisplay(rows, positionsView);
}

/** The portfolio table with totals; in tslab also a chart of allocation and P&L by position. */
export async function asPortfolio(
  rows: PortfolioItem[],
  options: { chart?: boolean } = {},
): Promise<PortfolioItem[] & Displayable> {
  const charted = (options.chart ?? true) && isTslab() && rows.length > 0;
  const after = charted
    ? [
        await chartBundle(
          portfolioChart(rows),
          `[chart: allocation and unrealized P&L of ${rows.length} positions]`,
        ),
      ]
    : [];
  return withDisplay(rows, portfolioView, { after });
}

export function asAccountSummary(rows: AccountValue[]): AccountValue[] & Displayable {
  return withDisplay(rows, accountSummaryView);
}

/** `account()`'s record: tag → value, key tags first. */
export function asAccount(
  values: Record<string, number | string>,
  account?: string,
): Record<string, number | string> & Displayable {
  return withDisplay(values, accountView(account));
}

export function asPnl(pnl: PnL): PnL & Displayable {
  return withDisplay(pnl, pnlView);
}

export function asPositionPnl(rows: PositionPnL[]): PositionPnL[] & Displayable {
  return withDisplay(rows, positionPnlView);
}

export function asOpenOrders(rows: OrderRecord[]): OrderRecord[] & Displayable {
  return withDisplay(rows, openOrdersView);
}

export function asFills(rows: Fill[]): Fill[] & Displayable {
  return withDisplay(rows, fillsView);
}

export function asQuotes(rows: Quote[]): Quote[] & Displayable {
  return withDisplay(rows, quotesView);
}

export function asQuote(quote: Quote): Quote & Displayable {
  return withDisplay(quote, quoteView);
}

/** Bars as a table; in tslab a price chart (candlesticks or a line, with volume) comes first. */
export async function asBars(
  bars: Bar[],
  series: { symbol?: string; barSize?: string; chart?: boolean } = {},
): Promise<Bar[] & Displayable> {
  const charted = (series.chart ?? true) && isTslab() && bars.length > 0;
  const title = [series.symbol, series.barSize].filter((s) => s).join(" · ");
  const before = charted
    ? [
        await chartBundle(
          priceChart(bars, { title }),
          `[chart: ${bars.length} bars${title ? ` of ${title}` : ""}]`,
        ),
      ]
    : [];
  return withDisplay(bars, barsView({ symbol: series.symbol, barSize: series.barSize }), { before });
}

export function asContracts(rows: ContractInfo[]): ContractInfo[] & Displayable {
  return withDisplay(rows, contractsView);
}

export function asContract(info: ContractInfo): ContractInfo & Displayable {
  return withDisplay(info, contractView);
}

/** A trade shows its current status, fills and history each time it is printed. */
export function asTrade(trade: Trade): Trade & Displayable {
  return withDisplay(trade, tradeView);
}

export function asTrades(trades: Trade[]): Trade[] & Displayable {
  return withDisplay(trades, tradesView);
}

/** `label` says what was asked, e.g. "BUY 10 AAPL LMT 190". */
export function asWhatIf(result: WhatIfResult, label?: string): WhatIfResult & Displayable {
  return withDisplay(result, {
    html: (r) => whatIfView.html({ result: r, label }),
    text: (r) => whatIfView.text({ result: r, label }),
    summary: (r) => whatIfView.summary({ result: r, label }),
    data: (r) => dataOf(whatIfView, { result: r, label }),
  });
}

// ── live outputs ────────────────────────────────────────────────────────────────────────────────

export interface LiveView<T> {
  /** Re-renders the output in place (throttled; rendering happens only for what is sent). */
  update(value: T): void;
  /** Sends the last update and stops. */
  close(): void;
}

/**
 * Shows `initial` as an output of the running cell and keeps it current with `update`, from
 * background code too (tslab's display-id updates). A no-op outside tslab.
 */
export function showLive<T>(
  view: View<T>,
  initial: T,
  options: { minIntervalMs?: number } = {},
): LiveView<T> {
  if (!isTslab()) return { update() {}, close() {} };
  const display = newLiveDisplay(options);
  const render = (value: T) => () => ({ "text/html": view.html(value), "text/plain": view.text(value) });
  display.update(render(initial));
  return {
    update: (value) => display.update(render(value)),
    close: () => display.close(),
  };
}

/** The connection card (PAPER / LIVE / OFFLINE, client id, host:port, accounts …). */
export function inspectConnection(
  status: ConnectionStatus,
  isLive: boolean,
  depth: number | null | undefined,
  options: InspectOptionsStylized | undefined,
): string {
  return inspectWith({ status, isLive }, connectionView, depth, options);
}

export interface ConnectionCard {
  update(status: ConnectionStatus, isLive: boolean): void;
  close(): void;
}

/** The connection card as a live output (connect() shows it; it follows state changes). */
export function showConnection(status: ConnectionStatus, isLive: boolean): ConnectionCard {
  const live = showLive(connectionView, { status, isLive });
  return {
    update: (next, nextIsLive) => live.update({ status: next, isLive: nextIsLive }),
    close: () => live.close(),
  };
}
