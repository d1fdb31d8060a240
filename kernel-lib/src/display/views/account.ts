/** Positions, the portfolio, account values and P&L. */
import type { AccountValue, PnL, PortfolioItem, Position, PositionPnL } from "../../state/types";
import type { Field } from "../card";
import { formatValue, toNumber } from "../format";
import { type Column, type TableOptions, toDataTable, toHtml, toText } from "../table";
import {
  caption,
  cardView,
  currencyTotals,
  distinct,
  fieldsTable,
  localSymbolColumn,
  money,
  plural,
  signed,
  tableView,
  type View,
  withoutSingleAccount,
} from "./view";

const POSITION_COLUMNS: readonly Column<Position>[] = [
  { key: "account", header: "Account" },
  { key: "symbol", header: "Symbol" },
  { key: "secType", header: "Type" },
  localSymbolColumn<Position>(),
  { key: "quantity", header: "Quantity", kind: "quantity" },
  { key: "avgCost", header: "Avg cost", kind: "price" },
  { header: "Cost basis", value: (p) => p.quantity * p.avgCost, kind: "money", total: true },
  { key: "currency", header: "Currency" },
];

export const positionsView = tableView<Position>(
  (rows) => {
    const { columns, accountNote } = withoutSingleAccount(rows, POSITION_COLUMNS);
    const currency = currencyTotals(rows);
    return {
      columns,
      options: {
        title: "Positions",
        caption: caption(accountNote, currency.note),
        totals: currency.totals && rows.length > 1,
      },
    };
  },
  (rows) => {
    const accounts = distinct(rows, (r) => r.account);
    return `${plural(rows.length, "position")}${accounts.length ? ` in ${accounts.join(", ")}` : ""}`;
  },
);

const PORTFOLIO_COLUMNS: readonly Column<PortfolioItem>[] = [
  { key: "account", header: "Account" },
  { key: "symbol", header: "Symbol" },
  { key: "secType", header: "Type" },
  localSymbolColumn<PortfolioItem>(),
  { key: "quantity", header: "Quantity", kind: "quantity" },
  { key: "marketPrice", header: "Price", kind: "price" },
  { key: "marketValue", header: "Market value", kind: "money", total: true },
  { key: "avgCost", header: "Avg cost", kind: "price" },
  { key: "unrealizedPnl", header: "Unrealized P&L", kind: "signedMoney", total: true },
  {
    header: "Unrealized %",
    // Against the cost basis (market value less the gain); shorts gain when the price falls.
    value: (p) => {
      const basis = Math.abs(p.marketValue - p.unrealizedPnl);
      return basis > 0 ? p.unrealizedPnl / basis : undefined;
    },
    kind: "signedPercent",
  },
  { key: "realizedPnl", header: "Realized P&L", kind: "signedMoney", total: true },
  { key: "currency", header: "Currency" },
];

function portfolioTotals(rows: readonly PortfolioItem[]): { value: number; unrealized: number } {
  let value = 0;
  let unrealized = 0;
  for (const p of rows) {
    value += toNumber(p.marketValue) ?? 0;
    unrealized += toNumber(p.unrealizedPnl) ?? 0;
  }
  return { value, unrealized };
}

export const portfolioView = tableView<PortfolioItem>(
  (rows) => {
    const { columns, accountNote } = withoutSingleAccount(rows, PORTFOLIO_COLUMNS);
    const currency = currencyTotals(rows);
    return {
      columns,
      options: {
        title: "Portfolio",
        caption: caption(accountNote, currency.note),
        totals: currency.totals && rows.length > 1,
      },
    };
  },
  (rows) => {
    const accounts = distinct(rows, (r) => r.account);
    const head = `${plural(rows.length, "position")}${accounts.length ? ` in ${accounts.join(", ")}` : ""}`;
    const currency = currencyTotals(rows);
    if (!currency.totals || rows.length === 0) return head;
    const { value, unrealized } = portfolioTotals(rows);
    const unit = currency.note ? ` ${currency.note}` : "";
    return `${head}: market value ${money(value)}${unit}, unrealized P&L ${signed(unrealized)}${unit}`;
  },
);

const POSITION_PNL_COLUMNS: readonly Column<PositionPnL>[] = [
  { key: "account", header: "Account" },
  { key: "symbol", header: "Symbol" },
  { key: "secType", header: "Type" },
  localSymbolColumn<PositionPnL>(),
  { key: "quantity", header: "Quantity", kind: "quantity" },
  { key: "marketValue", header: "Market value", kind: "money", total: true },
  { key: "dailyPnl", header: "Daily P&L", kind: "signedMoney", total: true },
  { key: "unrealizedPnl", header: "Unrealized P&L", kind: "signedMoney", total: true },
  { key: "realizedPnl", header: "Realized P&L", kind: "signedMoney", total: true },
  { key: "currency", header: "Currency" },
];

export const positionPnlView = tableView<PositionPnL>(
  (rows) => {
    const { columns, accountNote } = withoutSingleAccount(rows, POSITION_PNL_COLUMNS);
    const currency = currencyTotals(rows);
    return {
      columns,
      options: {
        title: "P&L by position",
        caption: caption(accountNote, currency.note),
        totals: currency.totals && rows.length > 1,
      },
    };
  },
  (rows) => {
    const head = plural(rows.length, "position");
    const currency = currencyTotals(rows);
    if (!currency.totals || rows.length === 0) return `P&L of ${head}`;
    const daily = rows.reduce((sum, r) => sum + (toNumber(r.dailyPnl) ?? 0), 0);
    const unit = currency.note ? ` ${currency.note}` : "";
    return `P&L of ${head}: daily ${signed(daily)}${unit}`;
  },
);

// ── account ─────────────────────────────────────────────────────────────────────────────────────

/** The tags an analyst looks for first; the others follow in IB's order. */
const KEY_TAGS = [
  "NetLiquidation",
  "TotalCashValue",
  "SettledCash",
  "GrossPositionValue",
  "BuyingPower",
  "AvailableFunds",
  "ExcessLiquidity",
  "InitMarginReq",
  "MaintMarginReq",
  "EquityWithLoanValue",
  "Cushion",
];

function keyTagsFirst(tags: readonly string[]): string[] {
  const first = KEY_TAGS.filter((t) => tags.includes(t));
  return [...first, ...tags.filter((t) => !KEY_TAGS.includes(t))];
}

/** IB's values are strings; numbers show as amounts, anything else ("INDIVIDUAL") as it is. */
const amountKind = (value: unknown) => (toNumber(value) === undefined ? "text" : "money");

interface SummaryRow {
  tag: string;
  currency: string;
  values: Map<string, string>;
}

/** Several accounts read best side by side: one row per tag, one column per account. */
function pivotSummary(rows: readonly AccountValue[]): { accounts: string[]; table: SummaryRow[] } {
  const accounts = distinct(rows, (r) => r.account);
  const byKey = new Map<string, SummaryRow>();
  for (const r of rows) {
    const key = `${r.tag}\u0000${r.currency}`;
    let row = byKey.get(key);
    if (!row) {
      row = { tag: r.tag, currency: r.currency, values: new Map() };
      byKey.set(key, row);
    }
    row.values.set(r.account, r.value);
  }
  const order = keyTagsFirst(distinct(rows, (r) => r.tag));
  const table = [...byKey.values()].sort((a, b) => order.indexOf(a.tag) - order.indexOf(b.tag));
  return { accounts, table };
}

export const accountSummaryView: View<AccountValue[]> = (() => {
  const layout = (rows: readonly AccountValue[]) => {
    const { accounts, table } = pivotSummary(rows);
    const columns: Column<SummaryRow>[] = [
      { key: "tag", header: "Tag" },
      ...accounts.map(
        (account): Column<SummaryRow> => ({
          header: accounts.length === 1 ? "Value" : account,
          value: (r) => {
            const v = r.values.get(account);
            return toNumber(v) === undefined ? v : Number(v);
          },
          kind: "money",
        }),
      ),
      { key: "currency", header: "Currency" },
    ];
    const options: TableOptions = {
      title: "Account summary",
      caption: accounts.length === 1 ? accounts[0] : undefined,
      totals: false,
    };
    return { table, columns, options };
  };
  return {
    html: (rows) => {
      const { table, columns, options } = layout(rows);
      return toHtml(table, columns, options);
    },
    text: (rows) => {
      const { table, columns, options } = layout(rows);
      return toText(table, columns, options);
    },
    summary: (rows) => {
      const accounts = distinct(rows, (r) => r.account);
      return `${plural(rows.length, "account value")} for ${accounts.join(", ") || "no account"}`;
    },
    data: (rows) => {
      const { table, columns } = layout(rows);
      return toDataTable(table, columns);
    },
  };
})();

/** `account()`'s record (tag → number or string) of one account. */
export function accountView(account: string | undefined): View<Record<string, number | string>> {
  const title = account ? `Account ${account}` : "Account";
  return cardView(
    (values) => ({
      card: {
        title,
        fields: keyTagsFirst(Object.keys(values)).map(
          (tag): Field => ({ label: tag, value: values[tag], kind: amountKind(values[tag]) }),
        ),
      },
    }),
    (values) => {
      const net = values.NetLiquidation;
      return `${title}: ${plural(Object.keys(values).length, "value")}${net === undefined ? "" : `, NetLiquidation ${formatValue(net, amountKind(net))}`}`;
    },
  );
}

const pnlFields = (pnl: PnL): Field[] => [
  { label: "Daily", value: pnl.dailyPnl, kind: "signedMoney" },
  { label: "Unrealized", value: pnl.unrealizedPnl, kind: "signedMoney" },
  { label: "Realized", value: pnl.realizedPnl, kind: "signedMoney" },
];

export const pnlView: View<PnL> = cardView(
  (pnl) => ({ card: { title: `P&L ${pnl.account}`, fields: pnlFields(pnl) } }),
  (pnl) =>
    `P&L ${pnl.account}: daily ${signed(pnl.dailyPnl)}, unrealized ${signed(pnl.unrealizedPnl)}, realized ${signed(pnl.realizedPnl)}`,
  // As data the account, which the card shows in its title, is a column: rows of several accounts stack.
  (pnl) => fieldsTable([{ label: "Account", value: pnl.account }, ...pnlFields(pnl)]),
);
