/**
 * What a view is (HTML, plain text, a one-line summary of a value) and the pieces the result views
 * share: table and card views, plurals, the account and currency rules for captions and totals.
 */
import { type Card, type CardSection, cardHtml, cardText, type Field } from "../card";
import { inferDataTable } from "../data";
import { formatValue } from "../format";
import {
  type Column,
  type DataTable,
  type TableOptions,
  toDataTable,
  toHtml,
  toText,
  uniqueNames,
} from "../table";

/** How a value shows: HTML for the notebook, plain text elsewhere, and a one-line summary. */
export interface View<T> {
  html(value: T): string;
  text(value: T): string;
  summary(value: T): string;
  /** The value as data, with the columns the HTML shows (records, CSV, dataframe). */
  data?(value: T): DataTable;
}

/** The view's data; a view without columns gets the value's own flat fields. */
export function dataOf<T>(view: View<T>, value: T): DataTable {
  return view.data ? view.data(value) : inferDataTable(value);
}

/** A card's fields as one row: labels as headers. */
export function fieldsTable(fields: readonly Field[]): DataTable {
  const names = uniqueNames(fields.map((f) => f.label));
  return {
    columns: fields.map((f, i) => ({ name: names[i] as string, kind: f.kind ?? "text" })),
    values: fields.map((f) => [f.value]),
    rowCount: 1,
  };
}

/** A table view: columns and options may depend on the rows (one account → no account column). */
export function tableView<T>(
  layout: (rows: readonly T[]) => { columns: readonly Column<T>[]; options: TableOptions },
  summary: (rows: readonly T[]) => string,
): View<T[]> {
  return {
    html: (rows) => {
      const { columns, options } = layout(rows);
      return toHtml(rows, columns, options);
    },
    text: (rows) => {
      const { columns, options } = layout(rows);
      return toText(rows, columns, options);
    },
    summary,
    data: (rows) => toDataTable(rows, layout(rows).columns),
  };
}

/** A card view; as data, one row of its fields (or what `data` makes of the value). */
export function cardView<T>(
  build: (value: T) => { card: Card; sections?: CardSection[] },
  summary: (value: T) => string,
  data: (value: T) => DataTable = (value) => fieldsTable(build(value).card.fields),
): View<T> {
  return {
    html: (value) => {
      const { card, sections } = build(value);
      return cardHtml(card, sections);
    },
    text: (value) => {
      const { card, sections } = build(value);
      return cardText(card, sections);
    },
    summary,
    data,
  };
}

export const plural = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

export function distinct<T>(rows: readonly T[], pick: (row: T) => string): string[] {
  return [...new Set(rows.map(pick))];
}

/** The account column is noise when every row is in the same account: it moves to the caption. */
export function withoutSingleAccount<T extends { account: string }>(
  rows: readonly T[],
  columns: readonly Column<T>[],
): { columns: Column<T>[]; accountNote: string | undefined } {
  const accounts = distinct(rows, (r) => r.account);
  if (accounts.length !== 1) return { columns: [...columns], accountNote: undefined };
  return { columns: columns.filter((c) => c.key !== "account"), accountNote: accounts[0] };
}

/** Sums across currencies mean nothing: totals only when every row is in one currency. */
export function currencyTotals(rows: readonly { currency: string }[]): {
  totals: boolean;
  note: string | undefined;
} {
  const currencies = distinct(rows, (r) => r.currency);
  if (currencies.length <= 1) return { totals: true, note: currencies[0] };
  return { totals: false, note: `${currencies.join(", ")}: no totals across currencies` };
}

export const caption = (...parts: Array<string | undefined>) =>
  parts.filter((p) => p).join(" · ") || undefined;

/** IB's local symbol only where it says more than the symbol (options, futures, forex). */
export const localSymbolColumn = <T extends { symbol: string; localSymbol: string }>(): Column<T> => ({
  header: "Local symbol",
  value: (r) => (r.localSymbol && r.localSymbol !== r.symbol ? r.localSymbol : undefined),
  optional: true,
});

export const money = (n: number | undefined) => formatValue(n, "money");
export const signed = (n: number | undefined) => formatValue(n, "signedMoney") || "–";
