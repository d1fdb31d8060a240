/** Snapshots and iopub messages as the library sends them, for the tests. */
import type { KernelMessage } from "@jupyterlab/services";
import { FEED_MIME_TYPE, type FeedOrder, type FeedPayload, type FeedPosition } from "../payload";

export function position(overrides: Partial<FeedPosition> = {}): FeedPosition {
  return {
    account: "DU1234567",
    symbol: "AAPL",
    localSymbol: "AAPL",
    secType: "STK",
    currency: "USD",
    conId: 265598,
    quantity: 100,
    avgCost: 150.25,
    marketPrice: 170,
    marketValue: 17000,
    unrealizedPnl: 1975,
    realizedPnl: 0,
    dailyPnl: -42.5,
    ...overrides,
  };
}

export function order(overrides: Partial<FeedOrder> = {}): FeedOrder {
  return {
    orderId: 11,
    clientId: 2,
    permId: 900011,
    account: "DU1234567",
    symbol: "AAPL",
    secType: "STK",
    action: "BUY",
    quantity: 10,
    orderType: "LMT",
    lmtPrice: 160,
    auxPrice: null,
    tif: "DAY",
    status: "Submitted",
    filled: 0,
    remaining: 10,
    avgFillPrice: 0,
    updatedAt: "2026-11-24T14:30:00.000Z",
    ...overrides,
  };
}

export function payload(overrides: Partial<FeedPayload> = {}): FeedPayload {
  return {
    v: 1,
    seq: 1,
    ts: "2026-11-24T14:30:01.000Z",
    source: {
      clientId: 2,
      host: "127.0.0.1",
      port: 7497,
      broker: "ibkr-paper",
      accounts: ["DU1234567"],
      live: false,
      kind: "TWS",
    },
    connection: {
      state: "connected",
      reason: "connected",
      since: "2026-11-24T14:00:00.000Z",
      lastConnectedAt: "2026-11-24T14:00:00.000Z",
      serverVersion: 176,
      trading: false,
      readOnlyApi: false,
    },
    positions: [position()],
    orders: [order()],
    account: [
      {
        account: "DU1234567",
        currency: "USD",
        netLiquidation: 1000000,
        totalCash: 983000,
        buyingPower: 4000000,
        unrealizedPnl: 1975,
        realizedPnl: 0,
        dailyPnl: -12.5,
      },
    ],
    ...overrides,
  };
}

let counter = 0;

/** An iopub message as the kernel sends it: update_display_data for the hidden display id. */
export function iopub(
  data: Record<string, unknown>,
  msgType: "update_display_data" | "display_data" | "stream" = "update_display_data",
  /** For a stream: the text, instead of the data as JSON. */
  text?: string,
): KernelMessage.IIOPubMessage {
  counter += 1;
  const content =
    msgType === "stream"
      ? { name: "stdout", text: text ?? JSON.stringify(data) }
      : { data, metadata: {}, transient: { display_id: "ibkr-0123456789abcdef" } };
  return {
    channel: "iopub",
    header: {
      msg_id: `m${counter}`,
      msg_type: msgType,
      session: "s",
      username: "u",
      date: new Date().toISOString(),
      version: "5.3",
    },
    parent_header: {},
    metadata: {},
    content,
  } as unknown as KernelMessage.IIOPubMessage;
}

export function feedMessage(p: unknown): KernelMessage.IIOPubMessage {
  return iopub({ [FEED_MIME_TYPE]: p });
}

/** The value, or a test failure saying it is missing (instead of a non-null assertion). */
export function must<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error("expected a value");
  return value;
}
