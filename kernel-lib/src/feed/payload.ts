/**
 * The feed's payload: a snapshot of one connection's broker state, published to JupyterLab over the
 * kernel's iopub channel (DESIGN decision 2). This is a contract with the jupyterlab-ibkr extension:
 * change it only by bumping `v` (and the MIME type), never silently.
 */
import type { ConnectionState } from "../connection/connection";

export const FEED_MIME_TYPE = "application/vnd.ibkr-notebook.state.v1+json";
export const FEED_VERSION = 1;

export interface FeedSource {
  clientId: number | null;
  host: string;
  port: number | null;
  broker: "ibkr-paper" | "ibkr-live";
  accounts: string[];
  /** True when orders would go to real money. */
  live: boolean;
  /** "TWS", "IB Gateway" or "unknown". */
  kind: string;
}

export interface FeedConnection {
  state: ConnectionState;
  reason: string;
  /** ISO times. */
  since: string;
  lastConnectedAt: string | null;
  serverVersion: number | null;
  /** Whether this connection may send orders (trading: true and, for live, allowLive). */
  trading: boolean;
  /**
   * TWS refused to list or place orders: its "Read-Only API" setting is ticked, so the orders shown
   * are only those this connection heard of. Added within v1 (older libraries leave it out).
   */
  readOnlyApi: boolean;
}

export interface FeedPosition {
  account: string;
  symbol: string;
  localSymbol: string;
  secType: string;
  currency: string;
  conId: number;
  quantity: number;
  avgCost: number;
  /** From account updates when the portfolio is subscribed; null otherwise. */
  marketPrice: number | null;
  marketValue: number | null;
  unrealizedPnl: number | null;
  realizedPnl: number | null;
  /** Today's P&L, when the position's P&L is subscribed (the monitor does, for its largest positions); null otherwise. */
  dailyPnl: number | null;
}

export interface FeedOrder {
  orderId: number;
  clientId: number;
  permId: number;
  account: string;
  symbol: string;
  secType: string;
  action: string;
  quantity: number;
  orderType: string;
  lmtPrice: number | null;
  auxPrice: number | null;
  tif: string;
  status: string;
  filled: number;
  remaining: number;
  avgFillPrice: number;
  /** ISO time of the last update. */
  updatedAt: string;
}

export interface FeedAccount {
  account: string;
  currency: string;
  netLiquidation: number | null;
  totalCash: number | null;
  buyingPower: number | null;
  unrealizedPnl: number | null;
  realizedPnl: number | null;
  dailyPnl: number | null;
}

export interface FeedPayload {
  v: typeof FEED_VERSION;
  /** Increases by one per snapshot of this feed; a gap means snapshots were coalesced, not lost. */
  seq: number;
  /** ISO time the snapshot was taken. */
  ts: string;
  source: FeedSource;
  connection: FeedConnection;
  positions: FeedPosition[];
  orders: FeedOrder[];
  account: FeedAccount[];
}
