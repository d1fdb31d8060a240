/**
 * Cell formatting for notebook tables and cards. Numbers use a fixed en-US grouping so that a shared
 * notebook reads the same on every machine; IB's "no value" sentinels show as blanks; every string
 * that reaches HTML goes through `escapeHtml`.
 */

export type ColumnKind =
  | "text"
  /** A number that names something (order id, conId): right-aligned, never grouped. */
  | "id"
  | "integer"
  | "quantity"
  | "price"
  | "money"
  /** P&L: always signed (+ / −), coloured green / red in HTML. */
  | "signedMoney"
  /** A fraction shown as a percentage: 0.1234 → 12.34%. */
  | "percent"
  /** A signed fraction shown as a percentage (a change): +1.20% / −0.45%. */
  | "signedPercent"
  /** A calendar day. The library stores days as UTC midnight (daily bars), so days are read in UTC. */
  | "date"
  /** An instant, in the kernel's local time. */
  | "datetime";

/** Kinds whose cells are numbers: right-aligned, tabular figures, sorted numerically. */
export function isNumericKind(kind: ColumnKind): boolean {
  return kind !== "text" && kind !== "date" && kind !== "datetime";
}

export function isSignedKind(kind: ColumnKind): boolean {
  return kind === "signedMoney" || kind === "signedPercent";
}

/** TWS sends Double.MAX_VALUE (and the API sometimes Infinity) for "not set". */
const UNSET_THRESHOLD = 1e300;

/** The number a cell holds: numbers and numeric strings; undefined for blanks and IB's "unset". */
export function toNumber(value: unknown): number | undefined {
  let n: number;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && value.trim() !== "") n = Number(value);
  else return undefined;
  return Number.isFinite(n) && Math.abs(n) < UNSET_THRESHOLD ? n : undefined;
}

const formatters = new Map<string, Intl.NumberFormat>();

function numberFormat(minDigits: number, maxDigits: number, grouping = true): Intl.NumberFormat {
  const key = `${minDigits}/${maxDigits}/${grouping}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.NumberFormat("en-US", {
      minimumFractionDigits: minDigits,
      maximumFractionDigits: maxDigits,
      useGrouping: grouping,
    });
    formatters.set(key, format);
  }
  return format;
}

/** The minus sign: U+2212 in HTML (as wide as "+" in tabular figures), ASCII in plain text. */
export interface FormatOptions {
  minus: "−" | "-";
}

export const HTML_FORMAT: FormatOptions = { minus: "−" };
export const TEXT_FORMAT: FormatOptions = { minus: "-" };

function digits(kind: ColumnKind): [number, number] {
  switch (kind) {
    case "integer":
      return [0, 0];
    case "quantity":
      return [0, 4]; // fractional shares, forex and crypto amounts
    case "price":
      return [2, 4]; // 231.50, 1.0811
    case "percent":
    case "signedPercent":
    case "money":
    case "signedMoney":
      return [2, 2];
    default:
      return [0, 8];
  }
}

function formatNumber(n: number, kind: ColumnKind, options: FormatOptions): string {
  if (kind === "id") return String(n);
  const scaled = kind === "percent" || kind === "signedPercent" ? n * 100 : n;
  const [min, max] = digits(kind);
  const magnitude = numberFormat(min, max).format(Math.abs(scaled));
  const suffix = kind === "percent" || kind === "signedPercent" ? "%" : "";
  // Rounding can turn a tiny value into zero: a zero carries no sign.
  const isZero = /^[0.,]*$/.test(magnitude);
  const sign = isZero ? "" : scaled < 0 ? options.minus : isSignedKind(kind) ? "+" : "";
  return `${sign}${magnitude}${suffix}`;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

function formatDate(value: Date, kind: "date" | "datetime"): string {
  if (Number.isNaN(value.getTime())) return "";
  if (kind === "date") {
    return `${value.getUTCFullYear()}-${pad2(value.getUTCMonth() + 1)}-${pad2(value.getUTCDate())}`;
  }
  return (
    `${value.getFullYear()}-${pad2(value.getMonth() + 1)}-${pad2(value.getDate())} ` +
    `${pad2(value.getHours())}:${pad2(value.getMinutes())}:${pad2(value.getSeconds())}`
  );
}

/** A cell's text, before any escaping. Blanks for undefined, null and unset numbers. */
export function formatValue(value: unknown, kind: ColumnKind, options: FormatOptions = TEXT_FORMAT): string {
  if (value === undefined || value === null) return "";
  if (kind === "date" || kind === "datetime") {
    if (value instanceof Date) return formatDate(value, kind);
    return String(value);
  }
  if (isNumericKind(kind)) {
    const n = toNumber(value);
    if (n !== undefined) return formatNumber(n, kind, options);
    // A non-numeric value in a numeric column ("", "N/A", an unset double) is shown as it is.
    return typeof value === "number" ? "" : String(value);
  }
  if (value instanceof Date) return formatDate(value, "datetime");
  return String(value);
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}
