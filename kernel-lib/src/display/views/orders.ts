/** Open orders, fills, trades and what-if previews. */
import type { WhatIfResult } from "../../ib";
import type { Trade } from "../../orders/trade";
import type { Fill, OrderRecord } from "../../state/types";
import type { CardSection } from "../card";
import { formatValue, toNumber } from "../format";
import { type Column, type TableOptions, tableElement, toText } from "../table";
import {
  cardView,
  distinct,
  money,
  plural,
  signed,
  tableView,
  type View,
  withoutSingleAccount,
} from "./view";

const ORDER_COLUMNS: readonly Column<OrderRecord>[] = [
  { key: "orderId", header: "Order", kind: "id" },
  { key: "clientId", header: "Client", kind: "id" },
  { key: "account", header: "Account" },
  { key: "symbol", header: "Symbol" },
  { key: "secType", header: "Type" },
  { key: "action", header: "Side" },
  { key: "quantity", header: "Quantity", kind: "quantity" },
  { key: "orderType", header: "Order type" },
  { key: "lmtPrice", header: "Limit", kind: "price", optional: true },
  { key: "auxPrice", header: "Stop", kind: "price", optional: true },
  { key: "tif", header: "TIF" },
  { key: "status", header: "Status" },
  { key: "filled", header: "Filled", kind: "quantity" },
  { key: "remaining", header: "Remaining", kind: "quantity" },
  {
    header: "Avg fill",
    value: (o) => (o.filled > 0 ? o.avgFillPrice : undefined),
    kind: "price",
    optional: true,
  },
  { key: "whyHeld", header: "Why held", optional: true },
];

export const openOrdersView = tableView<OrderRecord>(
  (rows) => {
    const { columns, accountNote } = withoutSingleAccount(rows, ORDER_COLUMNS);
    return { columns, options: { title: "Open orders", caption: accountNote, totals: false } };
  },
  (rows) => {
    const clients = distinct(rows, (r) => String(r.clientId));
    return `${plural(rows.length, "open order")}${rows.length ? ` (client${clients.length === 1 ? "" : "s"} ${clients.join(", ")})` : ""}`;
  },
);

const FILL_COLUMNS: readonly Column<Fill>[] = [
  { key: "time", header: "Time", kind: "datetime" },
  { key: "account", header: "Account" },
  { key: "symbol", header: "Symbol" },
  { key: "secType", header: "Type" },
  { key: "side", header: "Side" },
  { key: "quantity", header: "Quantity", kind: "quantity" },
  { key: "price", header: "Price", kind: "price" },
  { header: "Value", value: (f) => f.quantity * f.price, kind: "money" },
  { key: "commission", header: "Commission", kind: "money", total: true },
  { key: "commissionCurrency", header: "Comm. ccy", optional: true },
  { key: "realizedPnl", header: "Realized P&L", kind: "signedMoney", total: true, optional: true },
  { key: "exchange", header: "Exchange" },
  { key: "orderId", header: "Order", kind: "id" },
  { key: "execId", header: "Exec id" },
];

function commissionTotal(rows: readonly Fill[]): { total: number; currency: string | undefined } {
  const currencies = distinct(
    rows.filter((f) => f.commissionCurrency),
    (f) => f.commissionCurrency as string,
  );
  let total = 0;
  for (const f of rows) total += toNumber(f.commission) ?? 0;
  return { total, currency: currencies.length === 1 ? currencies[0] : undefined };
}

export const fillsView = tableView<Fill>(
  (rows) => {
    const { columns, accountNote } = withoutSingleAccount(rows, FILL_COLUMNS);
    const currencies = distinct(
      rows.filter((f) => f.commissionCurrency),
      (f) => f.commissionCurrency as string,
    );
    return {
      columns,
      options: { title: "Fills", caption: accountNote, totals: rows.length > 1 && currencies.length <= 1 },
    };
  },
  (rows) => {
    if (rows.length === 0) return "0 fills";
    const { total, currency } = commissionTotal(rows);
    return `${plural(rows.length, "fill")}, commission ${money(total)}${currency ? ` ${currency}` : ""}`;
  },
);

/** "BUY 10 AAPL LMT 190.00 DAY". */
function orderLabel(trade: Trade): string {
  const o = trade.order;
  const price =
    o.lmtPrice !== undefined && toNumber(o.lmtPrice) !== undefined
      ? ` ${formatValue(o.lmtPrice, "price")}`
      : o.auxPrice !== undefined && toNumber(o.auxPrice) !== undefined
        ? ` stop ${formatValue(o.auxPrice, "price")}`
        : "";
  const symbol = trade.contract.localSymbol || trade.contract.symbol || "";
  return `${o.action ?? ""} ${formatValue(o.totalQuantity, "quantity")} ${symbol} ${o.orderType ?? ""}${price} ${o.tif ?? ""}`
    .replace(/\s+/g, " ")
    .trim();
}

const TRADE_FILL_COLUMNS: readonly Column<Fill>[] = [
  { key: "time", header: "Time", kind: "datetime" },
  { key: "quantity", header: "Quantity", kind: "quantity" },
  { key: "price", header: "Price", kind: "price" },
  { key: "commission", header: "Commission", kind: "money", total: true },
  { key: "realizedPnl", header: "Realized P&L", kind: "signedMoney", optional: true },
  { key: "exchange", header: "Exchange" },
];

const TRADE_LOG_COLUMNS: readonly Column<Trade["log"][number]>[] = [
  { key: "time", header: "Time", kind: "datetime" },
  { key: "status", header: "Status" },
  { key: "message", header: "Event" },
];

export const tradeView: View<Trade> = cardView(
  (trade) => {
    const fills = trade.fills;
    const sections: CardSection[] = [];
    if (fills.length > 0) {
      const options: TableOptions = { title: "Fills", totals: fills.length > 1 };
      sections.push({
        html: tableElement(fills, TRADE_FILL_COLUMNS, options),
        text: toText(fills, TRADE_FILL_COLUMNS, options),
      });
    }
    const logOptions: TableOptions = { title: "History", totals: false };
    sections.push({
      html: tableElement(trade.log, TRADE_LOG_COLUMNS, logOptions),
      text: toText(trade.log, TRADE_LOG_COLUMNS, logOptions),
    });
    return {
      card: {
        title: `Trade #${trade.orderId}: ${orderLabel(trade)}`,
        fields: [
          { label: "Status", value: trade.status },
          { label: "Filled", value: trade.filled, kind: "quantity" },
          { label: "Remaining", value: trade.remaining, kind: "quantity" },
          {
            label: "Avg fill price",
            value: trade.filled > 0 ? trade.avgFillPrice : undefined,
            kind: "price",
          },
          { label: "Account", value: trade.order.account },
          { label: "Client", value: trade.clientId },
          { label: "Perm id", value: trade.permId || undefined },
        ],
        note: trade.error ? `${trade.error.code ?? ""} ${trade.error.what}`.trim() : undefined,
      },
      sections,
    };
  },
  (trade) => {
    const fills =
      trade.filled > 0
        ? `, filled ${formatValue(trade.filled, "quantity")} @ ${formatValue(trade.avgFillPrice, "price")}`
        : "";
    return `Trade #${trade.orderId} ${orderLabel(trade)}: ${trade.status}${fills}`;
  },
);

const TRADES_COLUMNS: readonly Column<Trade>[] = [
  { key: "orderId", header: "Order", kind: "id" },
  { header: "Details", value: orderLabel },
  { key: "status", header: "Status" },
  { key: "filled", header: "Filled", kind: "quantity" },
  { key: "remaining", header: "Remaining", kind: "quantity" },
  {
    header: "Avg fill",
    value: (t) => (t.filled > 0 ? t.avgFillPrice : undefined),
    kind: "price",
    optional: true,
  },
];

export const tradesView = tableView<Trade>(
  () => ({ columns: TRADES_COLUMNS, options: { title: "Trades", totals: false } }),
  (rows) => {
    const open = rows.filter((t) => !t.isDone).length;
    return `${plural(rows.length, "trade")}, ${open} working`;
  },
);

export interface WhatIf {
  result: WhatIfResult;
  /** What was asked: "BUY 10 AAPL LMT 190". */
  label: string | undefined;
}

export const whatIfView: View<WhatIf> = cardView(
  ({ result, label }) => ({
    card: {
      title: label ? `What if: ${label}` : "What if",
      fields: [
        { label: "Initial margin change", value: result.initMarginChange, kind: "signedMoney" },
        { label: "Maintenance margin change", value: result.maintMarginChange, kind: "signedMoney" },
        { label: "Equity with loan change", value: result.equityWithLoanChange, kind: "signedMoney" },
        { label: "Commission", value: result.commission, kind: "money" },
        { label: "Commission currency", value: result.commissionCurrency },
      ],
      note: result.warningText,
    },
  }),
  ({ result, label }) =>
    `What if${label ? ` ${label}` : ""}: initial margin ${signed(result.initMarginChange)}, commission ${money(result.commission) || "–"}${result.commissionCurrency ? ` ${result.commissionCurrency}` : ""}`,
);
