/** Quotes, historical bars and contracts. */
import type { Bar, ContractInfo } from "../../ib";
import type { Quote } from "../../market-data/ticker";
import { formatValue, toNumber } from "../format";
import type { Column } from "../table";
import { cardView, dataOf, localSymbolColumn, plural, tableView, type View } from "./view";

const QUOTE_COLUMNS: readonly Column<Quote>[] = [
  { key: "symbol", header: "Symbol" },
  { key: "bid", header: "Bid", kind: "price" },
  { key: "ask", header: "Ask", kind: "price" },
  { key: "last", header: "Last", kind: "price" },
  {
    header: "Change",
    value: (q) => {
      const last = toNumber(q.last);
      const close = toNumber(q.close);
      return last !== undefined && close ? (last - close) / close : undefined;
    },
    kind: "signedPercent",
    optional: true,
  },
  { key: "bidSize", header: "Bid size", kind: "quantity", optional: true },
  { key: "askSize", header: "Ask size", kind: "quantity", optional: true },
  { key: "volume", header: "Volume", kind: "integer", optional: true },
  { key: "open", header: "Open", kind: "price", optional: true },
  { key: "high", header: "High", kind: "price", optional: true },
  { key: "low", header: "Low", kind: "price", optional: true },
  { key: "close", header: "Prev. close", kind: "price", optional: true },
  { key: "time", header: "Time", kind: "datetime" },
];

export const quotesView = tableView<Quote>(
  () => ({ columns: QUOTE_COLUMNS, options: { title: "Quotes", totals: false } }),
  (rows) => {
    if (rows.length !== 1) return plural(rows.length, "quote");
    const q = rows[0] as Quote;
    const f = (n: number | undefined) => formatValue(n, "price") || "–";
    return `${q.symbol}: bid ${f(q.bid)}, ask ${f(q.ask)}, last ${f(q.last)}`;
  },
);

/** One quote: the same one-row table. */
export const quoteView: View<Quote> = {
  html: (q) => quotesView.html([q]),
  text: (q) => quotesView.text([q]),
  summary: (q) => quotesView.summary([q]),
  data: (q) => dataOf(quotesView, [q]),
};

const BAR_COLUMNS: readonly Column<Bar>[] = [
  { key: "time", header: "Time", kind: "datetime" },
  { key: "open", header: "Open", kind: "price" },
  { key: "high", header: "High", kind: "price" },
  { key: "low", header: "Low", kind: "price" },
  { key: "close", header: "Close", kind: "price" },
  { key: "volume", header: "Volume", kind: "integer", optional: true },
  { key: "wap", header: "WAP", kind: "price", optional: true },
  { key: "count", header: "Trades", kind: "integer", optional: true },
];

/** Daily bars are calendar days (UTC midnight): shown as dates, not as a local time. */
function barColumns(bars: readonly Bar[]): readonly Column<Bar>[] {
  const daily =
    bars.length > 0 &&
    bars.every(
      (b) => b.time.getUTCHours() === 0 && b.time.getUTCMinutes() === 0 && b.time.getUTCSeconds() === 0,
    );
  // IB sends -1 for volume, WAP and count where they do not apply (forex midpoints).
  return BAR_COLUMNS.map((c) => {
    if (c.key === "time" && daily) return { ...c, kind: "date" as const };
    if (c.key === "volume" || c.key === "wap" || c.key === "count") {
      const key = c.key;
      return { ...c, key: undefined, value: (b: Bar) => (b[key] > 0 ? b[key] : undefined) };
    }
    return c;
  });
}

/** What a series of bars is of. */
export interface BarSeries {
  /** "AAPL", "EUR.USD". */
  symbol: string | undefined;
  /** "1 day", "5 mins". */
  barSize: string | undefined;
}

function barsTitle({ symbol, barSize }: BarSeries): string {
  return [symbol, barSize ? `${barSize} bars` : "Bars"].filter((s) => s).join(" ");
}

function barsRange(bars: readonly Bar[], columns: readonly Column<Bar>[]): string {
  const kind = columns[0]?.kind ?? "datetime";
  const first = bars[0];
  const last = bars[bars.length - 1];
  return first && last ? `${formatValue(first.time, kind)} → ${formatValue(last.time, kind)}` : "";
}

export function barsView(series: BarSeries): View<Bar[]> {
  return tableView<Bar>(
    (bars) => {
      const columns = barColumns(bars);
      return {
        columns,
        options: { title: barsTitle(series), caption: barsRange(bars, columns), totals: false, maxRows: 60 },
      };
    },
    (bars) => {
      const of = series.symbol ? ` of ${series.symbol}` : "";
      const size = series.barSize ? ` (${series.barSize})` : "";
      const range = bars.length ? `, ${barsRange(bars, barColumns(bars))}` : "";
      return `${plural(bars.length, "bar")}${of}${size}${range}`;
    },
  );
}

const CONTRACT_COLUMNS: readonly Column<ContractInfo>[] = [
  { key: "conId", header: "conId", kind: "id" },
  { key: "symbol", header: "Symbol" },
  localSymbolColumn<ContractInfo>(),
  { key: "secType", header: "Type" },
  { key: "exchange", header: "Exchange" },
  { key: "primaryExchange", header: "Primary", optional: true },
  { key: "currency", header: "Currency" },
  { key: "longName", header: "Name", optional: true },
  { header: "Min tick", value: (c) => (c.minTick ? String(c.minTick) : undefined), optional: true },
  { key: "multiplier", header: "Multiplier", optional: true },
];

export const contractsView = tableView<ContractInfo>(
  () => ({ columns: CONTRACT_COLUMNS, options: { title: "Contracts", totals: false } }),
  (rows) => plural(rows.length, "contract"),
);

export const contractView: View<ContractInfo> = cardView(
  (c) => ({
    card: {
      title: [c.localSymbol || c.symbol, c.secType, c.longName].filter((s) => s).join(" · "),
      fields: [
        { label: "conId", value: c.conId },
        { label: "Symbol", value: c.symbol },
        { label: "Local symbol", value: c.localSymbol },
        { label: "Type", value: c.secType },
        { label: "Exchange", value: c.exchange },
        { label: "Primary exchange", value: c.primaryExchange },
        { label: "Currency", value: c.currency },
        { label: "Name", value: c.longName },
        { label: "Min tick", value: c.minTick ? String(c.minTick) : undefined },
        { label: "Multiplier", value: c.multiplier },
      ],
    },
  }),
  (c) =>
    `${c.localSymbol || c.symbol} ${c.secType} ${c.exchange} ${c.currency}, conId ${c.conId}${c.longName ? `: ${c.longName}` : ""}`,
);
