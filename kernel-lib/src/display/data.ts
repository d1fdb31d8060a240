/**
 * Results as data. Every table a result shows converts in one call to plain records, CSV text or
 * file, and a dataframe, with the HTML table's columns: the same headers in the same order, the same
 * optional columns left out. Values are the raw cells, not their formatted text: numbers stay
 * numbers (a decimal quantity keeps the value IB sent), times are `Date`s, and IB's "no value"
 * sentinels (Double.MAX, Infinity) and blanks become `null`.
 *
 * The dataframe library, arquero, is an optional peer dependency: ESM-only, so it is loaded on first
 * use with `await import()` (DESIGN decision 5), and its types stay in this file. A user who never
 * asks for a dataframe never loads or installs it.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { InvalidArgumentError, MissingDependencyError } from "../errors";
import { type ColumnKind, isNumericKind, toNumber } from "./format";
import type { DataColumn, DataTable } from "./table";

/** One cell of a record: what JSON can carry, plus `Date` for times. */
export type CellValue = string | number | boolean | Date | null;

/** One row: the table's headers as keys, in the table's order. */
export type DataRecord = Record<string, CellValue>;

/**
 * The dataframe `toDataFrame()` returns: an arquero `ColumnTable`. Left untyped here so that
 * arquero's types stay out of ibkr-notebook's; for completions, name the type where you use it:
 * `await bars.toDataFrame<import("arquero").ColumnTable>()`.
 */
// biome-ignore lint/suspicious/noExplicitAny: arquero's types must not reach the public .d.ts (DESIGN 5)
export type DataFrame = any;

/** The package `toDataFrame()` loads, and how to install it. */
export const DATAFRAME_PACKAGE = "arquero";
export const DATAFRAME_INSTALL = "npm install arquero@8";

// ── cells ───────────────────────────────────────────────────────────────────────────────────────

/** TWS sends Double.MAX_VALUE (and the API sometimes Infinity) for "not set", as in format.ts. */
const UNSET_THRESHOLD = 1e300;

function jsonText(value: object): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A cell as data. Numeric strings in numeric columns (IB's account values) become numbers. */
export function cellData(value: unknown, kind: ColumnKind = "text"): CellValue {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) && Math.abs(value) < UNSET_THRESHOLD ? value : null;
    case "string":
      if (!isNumericKind(kind)) return value;
      if (value.trim() === "") return null;
      return toNumber(value) ?? value; // "INDIVIDUAL" in a value column stays text
    case "boolean":
      return value;
    case "bigint":
      return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
    case "undefined":
      return null;
    case "object":
      if (value === null) return null;
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
      return jsonText(value);
    default:
      return String(value);
  }
}

function columnData(values: readonly unknown[], kind: ColumnKind): CellValue[] {
  const out = new Array<CellValue>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = cellData(values[i], kind);
  return out;
}

// ── records ─────────────────────────────────────────────────────────────────────────────────────

type RecordMaker = (columns: readonly CellValue[][], row: number) => DataRecord;

/** Builds a record with keyed stores: the general way. */
function keyedMaker(names: readonly string[]): RecordMaker {
  return (columns, row) => {
    const record: DataRecord = {};
    for (let c = 0; c < names.length; c++) {
      Object.defineProperty(record, names[c] as string, {
        value: columns[c]?.[row] ?? null,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return record;
  };
}

/**
 * Builds a record as one object literal of fixed shape: several times faster than keyed stores for
 * 100,000 rows. The headers enter the source only as JSON string literals; "__proto__" (which a
 * literal would take as the prototype) and a runtime that forbids code from strings get keyedMaker.
 */
function recordMaker(names: readonly string[]): RecordMaker {
  if (names.includes("__proto__")) return keyedMaker(names);
  const fields = names.map((name, c) => `${JSON.stringify(name)}: columns[${c}][row]`).join(", ");
  try {
    return new Function("columns", "row", `return { ${fields} };`) as RecordMaker;
  } catch {
    return keyedMaker(names);
  }
}

/** Plain records, one per row, keyed by header in the table's order. New objects on every call. */
export function toRecords(table: DataTable): DataRecord[] {
  const { columns, rowCount } = table;
  const data = columns.map((c, i) => columnData(table.values[i] ?? [], c.kind));
  const make = recordMaker(columns.map((c) => c.name));
  const out = new Array<DataRecord>(rowCount);
  for (let r = 0; r < rowCount; r++) out[r] = make(data, r);
  return out;
}

// ── CSV ─────────────────────────────────────────────────────────────────────────────────────────

const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; quotes doubled. */
export function csvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A cell's CSV text: ISO 8601 times (a date column's days as YYYY-MM-DD, read in UTC as shown). */
function csvText(value: CellValue, kind: ColumnKind): string {
  if (typeof value === "number") return String(value);
  if (value === null) return "";
  if (value instanceof Date) {
    const iso = value.toISOString();
    return kind === "date" ? iso.slice(0, iso.indexOf("T")) : iso;
  }
  return csvField(String(value));
}

/** RFC 4180 CSV: a header line, then one line per row, each ended by CRLF. */
export function toCsv(table: DataTable): string {
  const { columns, rowCount } = table;
  const data = columns.map((c, i) => columnData(table.values[i] ?? [], c.kind));
  const lines = new Array<string>(rowCount + 1);
  lines[0] = columns.map((c) => csvField(c.name)).join(",");
  const cells = new Array<string>(columns.length);
  for (let r = 0; r < rowCount; r++) {
    for (let c = 0; c < columns.length; c++) {
      cells[c] = csvText((data[c] as CellValue[])[r] ?? null, (columns[c] as DataColumn).kind);
    }
    lines[r + 1] = cells.join(",");
  }
  return `${lines.join("\r\n")}\r\n`;
}

/** Writes the CSV (UTF-8) and returns the file's absolute path. */
export function writeCsv(table: DataTable, path: string): string {
  if (typeof path !== "string" || path.trim() === "") {
    throw new InvalidArgumentError(
      "path",
      `must be a file path, got ${JSON.stringify(path) ?? String(path)}`,
      'Give a file name, e.g. toCSV("positions.csv"), or no argument for the CSV text.',
    );
  }
  const absolute = resolve(path);
  writeFileSync(absolute, toCsv(table), "utf8");
  return absolute;
}

// ── dataframe ───────────────────────────────────────────────────────────────────────────────────

// Type-only: this CommonJS file may name an ES module's types when it says it loads it as one.
type Arquero = typeof import("arquero", { with: { "resolution-mode": "import" }});

/** How the dataframe library is loaded; tests replace it to see what a user without it sees. */
export type ModuleImporter = () => Promise<unknown>;

const importArquero: ModuleImporter = () => import("arquero");
let importer: ModuleImporter = importArquero;
let loading: Promise<Arquero> | undefined;

/** Replaces how the dataframe library is imported (no argument: the real `import("arquero")`). */
export function setDataFrameImporter(next?: ModuleImporter): void {
  importer = next ?? importArquero;
  loading = undefined;
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (
    (code === "ERR_MODULE_NOT_FOUND" ||
      code === "MODULE_NOT_FOUND" ||
      /Cannot find (module|package)/.test(message)) &&
    message.includes(`'${DATAFRAME_PACKAGE}'`)
  );
}

function loadFailure(error: unknown): MissingDependencyError {
  if (isNotFound(error))
    return new MissingDependencyError(DATAFRAME_PACKAGE, "toDataFrame()", DATAFRAME_INSTALL, error);
  const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return new MissingDependencyError(
    DATAFRAME_PACKAGE,
    "toDataFrame()",
    DATAFRAME_INSTALL,
    error,
    `toDataFrame() could not load the package "${DATAFRAME_PACKAGE}": ${reason}`,
  );
}

/**
 * arquero, imported once. A failure is not kept here, but Node's loader keeps the package lookup it
 * failed, so after installing arquero the user restarts the kernel (the error says so).
 */
function loadDataFrameLibrary(): Promise<Arquero> {
  loading ??= importer().then(
    (module) => {
      const aq = module as Partial<Arquero> | undefined;
      if (typeof aq?.table !== "function") {
        throw loadFailure(
          new Error(`it has no table() function; ibkr-notebook needs ${DATAFRAME_PACKAGE} 8`),
        );
      }
      return aq as Arquero;
    },
    (error: unknown) => {
      throw loadFailure(error);
    },
  );
  const current = loading;
  current.catch(() => {
    if (loading === current) loading = undefined;
  });
  return current;
}

/** An arquero table with the table's columns, in its order, under its headers. */
export async function toDataFrame(table: DataTable): Promise<DataFrame> {
  const aq = await loadDataFrameLibrary();
  const names = table.columns.map((c) => c.name);
  const columns = new Map<string, CellValue[]>(
    table.columns.map((c, i) => [c.name, columnData(table.values[i] ?? [], c.kind)]),
  );
  return aq.table(columns, names);
}

// ── values without a table view ─────────────────────────────────────────────────────────────────

function isFlat(value: unknown): boolean {
  return typeof value !== "object" || value === null || value instanceof Date;
}

/**
 * The data of a value shown by a view that has no columns (a custom `withDisplay` view): rows' own
 * enumerable fields, nested objects left out; one row for a single record.
 */
export function inferDataTable(value: unknown): DataTable {
  const rows: unknown[] = Array.isArray(value) ? value : [value];
  if (rows.every(isFlat)) {
    return { columns: [{ name: "value", kind: "text" }], values: [rows.slice()], rowCount: rows.length };
  }
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    if (isFlat(row)) continue;
    for (const [key, cell] of Object.entries(row as object)) {
      if (!seen.has(key) && isFlat(cell)) {
        seen.add(key);
        keys.push(key);
      }
    }
  }
  const values = keys.map((key) =>
    rows.map((row) => (isFlat(row) ? undefined : (row as Record<string, unknown>)[key])),
  );
  return {
    columns: keys.map((name, i) => ({
      name,
      kind: values[i]?.some((v) => v instanceof Date) ? "datetime" : "text",
    })),
    values,
    rowCount: rows.length,
  };
}
