/**
 * Message ids and the shapes of what travels on the wire, both ways. The encoders live in
 * `serializer.ts` (server → client), the decoders in `parser.ts` (client → server).
 */

/** Ids of messages the server sends (IB's "IN" ids, as a client sees them). */
export const ServerMessageId = {
  TICK_PRICE: 1,
  TICK_SIZE: 2,
  ORDER_STATUS: 3,
  ERROR: 4,
  OPEN_ORDER: 5,
  ACCOUNT_VALUE: 6,
  PORTFOLIO_VALUE: 7,
  ACCOUNT_UPDATE_TIME: 8,
  NEXT_VALID_ID: 9,
  CONTRACT_DATA: 10,
  EXECUTION_DATA: 11,
  MANAGED_ACCOUNTS: 15,
  HISTORICAL_DATA: 17,
  TICK_GENERIC: 45,
  TICK_STRING: 46,
  CURRENT_TIME: 49,
  CONTRACT_DATA_END: 52,
  OPEN_ORDER_END: 53,
  ACCOUNT_DOWNLOAD_END: 54,
  EXECUTION_DATA_END: 55,
  TICK_SNAPSHOT_END: 57,
  MARKET_DATA_TYPE: 58,
  COMMISSION_REPORT: 59,
  POSITION: 61,
  POSITION_END: 62,
  ACCOUNT_SUMMARY: 63,
  ACCOUNT_SUMMARY_END: 64,
  ACCOUNT_UPDATE_MULTI: 73,
  ACCOUNT_UPDATE_MULTI_END: 74,
  HISTORICAL_DATA_UPDATE: 90,
  PNL: 94,
  PNL_SINGLE: 95,
  COMPLETED_ORDER: 101,
  COMPLETED_ORDERS_END: 102,
} as const;

/** Ids of requests a client sends (IB's "OUT" ids). */
export const ClientRequestId = {
  REQ_MKT_DATA: 1,
  CANCEL_MKT_DATA: 2,
  PLACE_ORDER: 3,
  CANCEL_ORDER: 4,
  REQ_OPEN_ORDERS: 5,
  REQ_ACCOUNT_UPDATES: 6,
  REQ_EXECUTIONS: 7,
  REQ_IDS: 8,
  REQ_CONTRACT_DETAILS: 9,
  SET_SERVER_LOG_LEVEL: 14,
  REQ_AUTO_OPEN_ORDERS: 15,
  REQ_ALL_OPEN_ORDERS: 16,
  REQ_MANAGED_ACCOUNTS: 17,
  REQ_HISTORICAL_DATA: 20,
  CANCEL_HISTORICAL_DATA: 25,
  REQ_CURRENT_TIME: 49,
  REQ_GLOBAL_CANCEL: 58,
  REQ_MARKET_DATA_TYPE: 59,
  REQ_POSITIONS: 61,
  REQ_ACCOUNT_SUMMARY: 62,
  CANCEL_ACCOUNT_SUMMARY: 63,
  CANCEL_POSITIONS: 64,
  START_API: 71,
  REQ_ACCOUNT_UPDATES_MULTI: 76,
  CANCEL_ACCOUNT_UPDATES_MULTI: 77,
  REQ_PNL: 92,
  CANCEL_PNL: 93,
  REQ_PNL_SINGLE: 94,
  CANCEL_PNL_SINGLE: 95,
  REQ_COMPLETED_ORDERS: 99,
} as const;

/** IB tick types the simulator sends. */
export const TickType = {
  BID_SIZE: 0,
  BID: 1,
  ASK: 2,
  ASK_SIZE: 3,
  LAST: 4,
  LAST_SIZE: 5,
  HIGH: 6,
  LOW: 7,
  VOLUME: 8,
  CLOSE: 9,
  OPEN: 14,
  LAST_TIMESTAMP: 45,
  HALTED: 49,
} as const;

export type SecType =
  | "STK"
  | "OPT"
  | "FUT"
  | "CASH"
  | "IND"
  | "FOP"
  | "BOND"
  | "CFD"
  | "WAR"
  | "CRYPTO"
  | "BAG";

/** A contract as clients send it in a request: any field may be blank. */
export interface ContractSpec {
  conId: number | undefined;
  symbol: string;
  secType: string;
  lastTradeDateOrContractMonth: string;
  strike: number | undefined;
  right: string;
  multiplier: string;
  exchange: string;
  primaryExchange: string;
  currency: string;
  localSymbol: string;
  tradingClass: string;
}

/** A fully resolved contract, as the server describes it. */
export interface Contract {
  conId: number;
  symbol: string;
  secType: SecType;
  /** YYYYMMDD or YYYYMM; "" for stocks and currencies. */
  lastTradeDateOrContractMonth: string;
  strike: number;
  right: "" | "C" | "P";
  multiplier: string;
  exchange: string;
  primaryExchange: string;
  currency: string;
  localSymbol: string;
  tradingClass: string;
}

export interface ContractDetails {
  contract: Contract;
  marketName: string;
  minTick: number;
  orderTypes: string;
  validExchanges: string;
  longName: string;
  contractMonth: string;
  industry: string;
  category: string;
  subcategory: string;
  timeZoneId: string;
  tradingHours: string;
  liquidHours: string;
  underConId: number;
  underSymbol: string;
  underSecType: string;
  marketRuleIds: string;
  realExpirationDate: string;
  stockType: string;
  minSize: number;
  sizeIncrement: number;
  suggestedSizeIncrement: number;
}

export type OrderAction = "BUY" | "SELL";

export type OrderStatusName =
  | "PendingSubmit"
  | "PendingCancel"
  | "PreSubmitted"
  | "Submitted"
  | "ApiCancelled"
  | "Cancelled"
  | "Filled"
  | "Inactive";

/** The order fields a client sets and the simulator keeps; the rest of IB's ~100 are accepted and echoed blank. */
export interface OrderRequest {
  action: string;
  totalQuantity: number | undefined;
  orderType: string;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  tif: string;
  ocaGroup: string;
  account: string;
  openClose: string;
  orderRef: string;
  transmit: boolean;
  parentId: number;
  outsideRth: boolean;
  hidden: boolean;
  goodAfterTime: string;
  goodTillDate: string;
  whatIf: boolean;
  cashQty: number | undefined;
  algoStrategy: string;
  conditionCount: number;
}

/** An order as the server reports it in openOrder. */
export interface OpenOrderData {
  orderId: number;
  clientId: number;
  permId: number;
  parentId: number;
  contract: Contract;
  action: OrderAction;
  totalQuantity: number;
  orderType: string;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  tif: string;
  ocaGroup: string;
  account: string;
  orderRef: string;
  outsideRth: boolean;
  goodAfterTime: string;
  goodTillDate: string;
  whatIf: boolean;
  status: OrderStatusName;
  /** whatIf results; blank for a real order. */
  state: {
    initMarginChange?: string;
    maintMarginChange?: string;
    equityWithLoanChange?: string;
    initMarginAfter?: string;
    maintMarginAfter?: string;
    equityWithLoanAfter?: string;
    commission?: number;
    minCommission?: number;
    maxCommission?: number;
    commissionCurrency?: string;
    warningText?: string;
  };
}

export interface OrderStatusData {
  orderId: number;
  status: OrderStatusName;
  filled: number;
  remaining: number;
  avgFillPrice: number;
  permId: number;
  parentId: number;
  lastFillPrice: number;
  clientId: number;
  whyHeld: string;
  mktCapPrice: number;
}

export interface ExecutionData {
  orderId: number;
  contract: Contract;
  execId: string;
  /** "YYYYMMDD  HH:mm:ss" as TWS writes it, in the server's time zone. */
  time: string;
  account: string;
  exchange: string;
  side: "BOT" | "SLD";
  shares: number;
  price: number;
  permId: number;
  clientId: number;
  liquidation: number;
  cumQty: number;
  avgPrice: number;
  orderRef: string;
  lastLiquidity: number;
}

export interface CommissionReportData {
  execId: string;
  commission: number;
  currency: string;
  /** undefined on an opening fill: IB sends DBL_MAX there. */
  realizedPnl: number | undefined;
}

export interface PositionData {
  account: string;
  contract: Contract;
  position: number;
  avgCost: number;
}

export interface PortfolioData {
  contract: Contract;
  position: number;
  marketPrice: number;
  marketValue: number;
  averageCost: number;
  unrealizedPnl: number;
  realizedPnl: number;
  account: string;
}

export interface Bar {
  /** Formatted per the request's formatDate: "YYYYMMDD", "YYYYMMDD HH:mm:ss" or epoch seconds. */
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  wap: number;
  count: number;
}

export interface ExecutionFilter {
  clientId: number | undefined;
  account: string;
  time: string;
  symbol: string;
  secType: string;
  exchange: string;
  side: string;
}

/** Every client request the simulator understands, decoded. */
export type ClientRequest =
  | { type: "startApi"; clientId: number; optionalCapabilities: string }
  | {
      type: "reqMktData";
      reqId: number;
      contract: ContractSpec;
      genericTickList: string;
      snapshot: boolean;
      regulatorySnapshot: boolean;
    }
  | { type: "cancelMktData"; reqId: number }
  | { type: "reqMarketDataType"; marketDataType: number }
  | { type: "placeOrder"; orderId: number; contract: ContractSpec; order: OrderRequest }
  | { type: "cancelOrder"; orderId: number; manualOrderCancelTime: string }
  | { type: "reqGlobalCancel" }
  | { type: "reqOpenOrders" }
  | { type: "reqAllOpenOrders" }
  | { type: "reqAutoOpenOrders"; autoBind: boolean }
  | { type: "reqCompletedOrders"; apiOnly: boolean }
  | { type: "reqIds"; numIds: number }
  | { type: "reqExecutions"; reqId: number; filter: ExecutionFilter }
  | { type: "reqAccountUpdates"; subscribe: boolean; account: string }
  | {
      type: "reqAccountUpdatesMulti";
      reqId: number;
      account: string;
      modelCode: string;
      ledgerAndNlv: boolean;
    }
  | { type: "cancelAccountUpdatesMulti"; reqId: number }
  | { type: "reqAccountSummary"; reqId: number; group: string; tags: string }
  | { type: "cancelAccountSummary"; reqId: number }
  | { type: "reqPositions" }
  | { type: "cancelPositions" }
  | { type: "reqPnL"; reqId: number; account: string; modelCode: string }
  | { type: "cancelPnL"; reqId: number }
  | { type: "reqPnLSingle"; reqId: number; account: string; modelCode: string; conId: number }
  | { type: "cancelPnLSingle"; reqId: number }
  | { type: "reqManagedAccounts" }
  | { type: "reqCurrentTime" }
  | { type: "setServerLogLevel"; level: number }
  | {
      type: "reqContractDetails";
      reqId: number;
      contract: ContractSpec;
      includeExpired: boolean;
      secIdType: string;
      secId: string;
      issuerId: string;
    }
  | {
      type: "reqHistoricalData";
      reqId: number;
      contract: ContractSpec;
      includeExpired: boolean;
      endDateTime: string;
      barSize: string;
      duration: string;
      useRth: boolean;
      whatToShow: string;
      formatDate: number;
      keepUpToDate: boolean;
    }
  | { type: "cancelHistoricalData"; reqId: number };

export type ClientRequestType = ClientRequest["type"];
