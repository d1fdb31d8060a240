/**
 * ibkr-notebook: Interactive Brokers from a TypeScript notebook.
 *
 *   const ib = await connect();          // paper TWS 7497, then Gateway 4002; client id 2
 *   await ib.positions();
 *   await ib.buy("AAPL", 10, { limit: 190 });   // needs connect({ trading: true })
 */

export type { ConnectionState, ConnectionStatus } from "./connection/connection";
export type { Broker, ConnectOptions } from "./connection/options";
export type { ContractInput } from "./contracts";
export * as display from "./display";
export { doctor, formatDoctorReport } from "./doctor/doctor";
export * from "./errors";
export { type Monitor, type MonitorOptions, monitor } from "./feed/monitor";
export { FEED_MIME_TYPE, type FeedPayload } from "./feed/payload";
export { StateFeed } from "./feed/state-feed";
export {
  type Bar,
  type BarsOptions,
  type ContractInfo,
  connect,
  IB,
  type IBEvents,
  type PositionPnlOptions,
  type WhatIfResult,
} from "./ib";
export { type Quote, Ticker } from "./market-data/ticker";
export type { OrderOptions, OrderSpec, Side, Tif } from "./orders/order-spec";
export { Trade } from "./orders/trade";
export * as simulator from "./simulator";
export { TwsSimulator } from "./simulator";
export type {
  AccountValue,
  Contract,
  Fill,
  OrderRecord,
  PnL,
  PortfolioItem,
  Position,
  PositionPnL,
} from "./state/types";
