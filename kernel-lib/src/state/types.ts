/**
 * The library's own view of the broker: plain, flat records that print as table rows. Every record
 * keeps the full IB contract as `contract` for follow-up calls.
 */
import type { Contract } from "@stoqey/ib";

export type { Contract };

export interface Position {
  account: string;
  symbol: string;
  secType: string;
  /** IB's local symbol: "ESH7", "EUR.USD", "AAPL  270115C00250000". */
  localSymbol: string;
  currency: string;
  quantity: number;
  /** IB's average cost: price × multiplier, commissions included. */
  avgCost: number;
  contract: Contract;
}

export interface PortfolioItem {
  account: string;
  symbol: string;
  secType: string;
  localSymbol: string;
  currency: string;
  quantity: number;
  marketPrice: number;
  marketValue: number;
  avgCost: number;
  unrealizedPnl: number;
  realizedPnl: number;
  contract: Contract;
}

export interface AccountValue {
  account: string;
  tag: string;
  value: string;
  currency: string;
}

export interface PnL {
  account: string;
  dailyPnl: number | undefined;
  unrealizedPnl: number | undefined;
  realizedPnl: number | undefined;
}

/** One position's P&L (IB's reqPnLSingle): today's, unrealized and realized, with its market value. */
export interface PositionPnL {
  account: string;
  symbol: string;
  secType: string;
  localSymbol: string;
  currency: string;
  quantity: number;
  dailyPnl: number | undefined;
  unrealizedPnl: number | undefined;
  realizedPnl: number | undefined;
  marketValue: number | undefined;
  contract: Contract;
}

export type OrderSide = "BUY" | "SELL";

export type OrderStatus =
  | "PendingSubmit"
  | "PendingCancel"
  | "PreSubmitted"
  | "Submitted"
  | "ApiPending"
  | "ApiCancelled"
  | "Cancelled"
  | "Filled"
  | "Inactive";

export const DONE_STATUSES: ReadonlySet<string> = new Set([
  "ApiCancelled",
  "Cancelled",
  "Filled",
  "Inactive",
]);

export interface OrderRecord {
  orderId: number;
  clientId: number;
  permId: number;
  account: string;
  symbol: string;
  secType: string;
  action: OrderSide;
  quantity: number;
  orderType: string;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  tif: string;
  status: OrderStatus | string;
  filled: number;
  remaining: number;
  avgFillPrice: number;
  lastFillPrice: number;
  whyHeld: string;
  updatedAt: Date;
  contract: Contract;
}

export interface Fill {
  execId: string;
  orderId: number;
  permId: number;
  clientId: number;
  account: string;
  symbol: string;
  secType: string;
  side: OrderSide;
  quantity: number;
  price: number;
  /** Cumulative quantity of the order after this fill. */
  cumQuantity: number;
  time: Date;
  exchange: string;
  commission: number | undefined;
  commissionCurrency: string | undefined;
  realizedPnl: number | undefined;
  contract: Contract;
}
