/**
 * Tables: one column spec renders both an HTML table (the notebook's rich output) and an aligned
 * plain-text table (text/plain, the REPL, console.log). Rows are shown in the order given (the
 * library sorts them sensibly); the HTML can be re-sorted by clicking a header where scripts run.
 */
import {
  type ColumnKind,
  escapeHtml,
  type FormatOptions,
  formatValue,
  HTML_FORMAT,
  isNumericKind,
  isSignedKind,
  TEXT_FORMAT,
  toNumber,
} from "./format";
import { outputHtml } from "./styles";

export interface Column<T> {
  /** The field shown; or give `value` for a computed column. */
  key?: keyof T & string;
  /** Computes the cell from the row. */
  value?: (row: T) => unknown;
  header: string;
  /** Default "text". */
  kind?: ColumnKind;
  /** Add the column up in the totals row. */
  total?: boolean;
  /** Leave the column out when no row has a value in it (e.g. "Stop" when no order is a stop). */
  optional?: boolean;
}

export interface TableOptions {
  /** Shown above the table (the HTML caption; the first line of the text). */
  title?: string;
  /** A short note after the title: the account, what the numbers mean, what was left out. */
  caption?: string;
  /** A totals row for the columns marked `total`. Default: when there are two rows or more. */
  totals?: boolean;
  /** Longer tables show their first and last rows only, as a DataFrame does. Default 200. */
  maxRows?: number;
  /** Click-to-sort headers in HTML. Default true. */
  sortable?: boolean;
}

const DEFAULT_MAX_ROWS = 200;
/** Rows kept when a table is cut: half from the start, half from the end. */
const CUT_ROWS = 20;
/** Plain-text cells wider than this are cut with "…" (long names, messages). */
const MAX_TEXT_WIDTH = 48;

function cellValue<T>(row: T, column: Column<T>): unknown {
  if (column.value) return column.value(row);
  return column.key === undefined ? undefined : row[column.key];
}

function kindOf(column: { kind?: ColumnKind }): ColumnKind {
  return column.kind ?? "text";
}

function hasValue(value: unknown, kind: ColumnKind): boolean {
  if (value === undefined || value === null || value === "") return false;
  return !isNumericKind(kind) || typeof value !== "number" || toNumber(value) !== undefined;
}

/** The columns worth showing for these rows. */
function visibleColumns<T>(rows: readonly T[], columns: readonly Column<T>[]): Column<T>[] {
  return columns.filter((c) => !c.optional || rows.some((row) => hasValue(cellValue(row, c), kindOf(c))));
}

/** Sums of the `total` columns; undefined where a column has no total. */
function totalsOf<T>(rows: readonly T[], columns: readonly Column<T>[]): Array<number | undefined> {
  return columns.map((c) => {
    if (!c.total) return undefined;
    let sum = 0;
    for (const row of rows) sum += toNumber(cellValue(row, c)) ?? 0;
    return sum;
  });
}

function wantsTotals<T>(rows: readonly T[], columns: readonly Column<T>[], options: TableOptions): boolean {
  return (options.totals ?? rows.length >= 2) && columns.some((c) => c.total);
}

/** The rows shown: all of them, or the first and last ones with a count of those left out. */
function shownRows<T>(
  rows: readonly T[],
  maxRows: number,
): { head: readonly T[]; tail: readonly T[]; cut: number } {
  if (rows.length <= maxRows) return { head: rows, tail: [], cut: 0 };
  const keep = Math.min(CUT_ROWS, maxRows);
  const headCount = Math.ceil(keep / 2);
  const tailCount = keep - headCount;
  return {
    head: rows.slice(0, headCount),
    tail: rows.slice(rows.length - tailCount),
    cut: rows.length - keep,
  };
}

// ── HTML ────────────────────────────────────────────────────────────────────────────────────────

/** One `<td>`: escaped, aligned by kind, signed cells coloured, numbers' raw value kept for sorting. */
export function htmlCell(value: unknown, kind: ColumnKind): string {
  const text = escapeHtml(formatValue(value, kind, HTML_FORMAT));
  if (!isNumericKind(kind)) return `<td class="txt">${text}</td>`;
  const n = toNumber(value);
  // Coloured by the sign shown: a change that rounds to 0.00% is neither gain nor loss.
  const shownSign = isSignedKind(kind) ? text.charAt(0) : "";
  const classes = shownSign === "+" ? "num pos" : shownSign === HTML_FORMAT.minus ? "num neg" : "num";
  return `<td class="${classes}" data-v="${n ?? ""}">${text}</td>`;
}

function htmlRow<T>(row: T, columns: readonly Column<T>[]): string {
  return `<tr>${columns.map((c) => htmlCell(cellValue(row, c), kindOf(c))).join("")}</tr>`;
}

function htmlCaption(options: TableOptions): string {
  if (options.title === undefined && options.caption === undefined) return "";
  const title = escapeHtml(options.title ?? "");
  const note = options.caption === undefined ? "" : `<small>${escapeHtml(options.caption)}</small>`;
  return `<caption>${title}${note}</caption>`;
}

/** The table element alone (no stylesheet): for composing into a larger output. */
export function tableElement<T>(
  rows: readonly T[],
  columns: readonly Column<T>[],
  options: TableOptions = {},
): string {
  const shown = visibleColumns(rows, columns);
  const { head, tail, cut } = shownRows(rows, options.maxRows ?? DEFAULT_MAX_ROWS);
  const header = shown
    .map((c) => {
      const align = isNumericKind(kindOf(c)) ? "num" : "txt";
      return `<th scope="col" class="${align}">${escapeHtml(c.header)}</th>`;
    })
    .join("");
  const body = [
    ...head.map((row) => htmlRow(row, shown)),
    ...(cut > 0
      ? [
          `<tr class="more"><td colspan="${shown.length}">… ${cut.toLocaleString("en-US")} more rows …</td></tr>`,
        ]
      : []),
    ...tail.map((row) => htmlRow(row, shown)),
  ].join("");
  let foot = "";
  if (wantsTotals(rows, shown, options)) {
    const totals = totalsOf(rows, shown);
    const cells = shown.map((c, i) => {
      if (i === 0 && totals[0] === undefined) return `<th scope="row" class="txt">Total</th>`;
      return htmlCell(totals[i], totals[i] === undefined ? "text" : kindOf(c));
    });
    foot = `<tfoot><tr>${cells.join("")}</tr></tfoot>`;
  }
  return `<table class="ibkr-table">${htmlCaption(options)}<thead><tr>${header}</tr></thead><tbody>${body}</tbody>${foot}</table>`;
}

/** A self-contained HTML table: scoped stylesheet, caption, header, rows, totals. */
export function toHtml<T>(
  rows: readonly T[],
  columns: readonly Column<T>[],
  options: TableOptions = {},
): string {
  const cut = rows.length > (options.maxRows ?? DEFAULT_MAX_ROWS);
  // A cut table is not sorted in the browser: sorting only the rows shown would mislead.
  const sortable = (options.sortable ?? true) && rows.length > 1 && !cut;
  return outputHtml(tableElement(rows, columns, options), { sortable });
}

// ── data ────────────────────────────────────────────────────────────────────────────────────────

/** A column of a table's data: its header, and its kind (how its times are written in CSV). */
export interface DataColumn {
  name: string;
  kind: ColumnKind;
}

/**
 * A table as data: the columns the HTML table shows, in its order and under its headers, with every
 * row's raw cell values (not the formatted text), column by column. No totals, no rows left out.
 */
export interface DataTable {
  columns: DataColumn[];
  /** `values[c][r]`: the value of column c in row r. */
  values: unknown[][];
  rowCount: number;
}

/** Headers made unique for keys: a second "Value" becomes "Value_2". */
export function uniqueNames(headers: readonly string[]): string[] {
  const seen = new Set<string>();
  return headers.map((header) => {
    let name = header;
    for (let n = 2; seen.has(name); n++) name = `${header}_${n}`;
    seen.add(name);
    return name;
  });
}

/** The data behind `toHtml(rows, columns)`: the same columns (optional ones left out alike). */
export function toDataTable<T>(rows: readonly T[], columns: readonly Column<T>[]): DataTable {
  const shown = visibleColumns(rows, columns);
  const names = uniqueNames(shown.map((c) => c.header));
  return {
    columns: shown.map((c, i) => ({ name: names[i] as string, kind: kindOf(c) })),
    values: shown.map((c) => {
      const out = new Array<unknown>(rows.length);
      for (let r = 0; r < rows.length; r++) out[r] = cellValue(rows[r] as T, c);
      return out;
    }),
    rowCount: rows.length,
  };
}

// ── plain text ──────────────────────────────────────────────────────────────────────────────────

function clip(text: string, width: number): string {
  const oneLine = text.replace(/\s*[\r\n]+\s*/g, " ");
  return oneLine.length > width ? `${oneLine.slice(0, width - 1)}…` : oneLine;
}

function textCells<T>(row: T, columns: readonly Column<T>[], format: FormatOptions): string[] {
  return columns.map((c) => clip(formatValue(cellValue(row, c), kindOf(c), format), MAX_TEXT_WIDTH));
}

/** An aligned plain-text table: title line, header, rule, rows, and a totals line. */
export function toText<T>(
  rows: readonly T[],
  columns: readonly Column<T>[],
  options: TableOptions = {},
): string {
  const shown = visibleColumns(rows, columns);
  const { head, tail, cut } = shownRows(rows, options.maxRows ?? DEFAULT_MAX_ROWS);
  const numeric = shown.map((c) => isNumericKind(kindOf(c)));
  const lines: string[][] = [shown.map((c) => c.header)];
  const body = [...head.map((r) => textCells(r, shown, TEXT_FORMAT))];
  const tailLines = tail.map((r) => textCells(r, shown, TEXT_FORMAT));
  let totals: string[] | undefined;
  if (wantsTotals(rows, shown, options)) {
    const sums = totalsOf(rows, shown);
    totals = shown.map((c, i) => {
      if (i === 0 && sums[0] === undefined) return "Total";
      return sums[i] === undefined ? "" : formatValue(sums[i], kindOf(c), TEXT_FORMAT);
    });
  }
  const widths = shown.map((_, i) =>
    Math.max(
      ...[...lines, ...body, ...tailLines, ...(totals ? [totals] : [])].map(
        (cells) => (cells[i] ?? "").length,
      ),
    ),
  );
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "─".repeat(w)).join("  ");
  const out: string[] = [];
  const title = [options.title, options.caption].filter((s) => s !== undefined && s !== "").join(" · ");
  if (title) out.push(title);
  out.push(render(lines[0] as string[]), rule);
  for (const cells of body) out.push(render(cells));
  if (cut > 0) out.push(`… ${cut.toLocaleString("en-US")} more rows …`);
  for (const cells of tailLines) out.push(render(cells));
  if (totals) out.push(rule, render(totals));
  if (rows.length === 0) out.push("(none)");
  return out.join("\n");
}
