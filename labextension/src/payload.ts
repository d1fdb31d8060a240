/**
 * The feed payload the ibkr-notebook library publishes (kernel-lib/src/feed/payload.ts is the other half
 * of this contract), and a strict parser for it. A payload is accepted whole or rejected with a reason:
 * the panels never render part of a snapshot, and a version they do not know is reported, not guessed at.
 */

export const FEED_MIME_TYPE = "application/vnd.ibkr-notebook.state.v1+json";
export const FEED_VERSION = 1;

export type ConnectionState = "connecting" | "connected" | "stale" | "reconnecting" | "disconnected";
export type Broker = "ibkr-paper" | "ibkr-live";

export interface FeedSource {
  clientId: number | null;
  host: string;
  port: number | null;
  broker: Broker;
  accounts: string[];
  live: boolean;
  kind: string;
}

export interface FeedConnection {
  state: ConnectionState;
  reason: string;
  since: string;
  lastConnectedAt: string | null;
  serverVersion: number | null;
  trading: boolean;
  /** TWS refused to list or place orders: its "Read-Only API" setting is ticked. */
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
  seq: number;
  ts: string;
  source: FeedSource;
  connection: FeedConnection;
  positions: FeedPosition[];
  orders: FeedOrder[];
  account: FeedAccount[];
}

export type ParseResult = { ok: true; payload: FeedPayload } | { ok: false; error: string };

/** Thrown inside the parser only; turned into `{ ok: false }` at its boundary. */
class PayloadError extends Error {}

/**
 * "added number?" / "added boolean": fields added within v1 that older libraries leave out; read as
 * null / false when absent.
 */
type Kind =
  | "string"
  | "number"
  | "number?"
  | "added number?"
  | "string?"
  | "boolean"
  | "added boolean"
  | "string[]";
type Shape<T> = { [K in keyof T]-?: Kind };

const SOURCE: Shape<FeedSource> = {
  clientId: "number?",
  host: "string",
  port: "number?",
  broker: "string",
  accounts: "string[]",
  live: "boolean",
  kind: "string",
};
const CONNECTION: Shape<FeedConnection> = {
  state: "string",
  reason: "string",
  since: "string",
  lastConnectedAt: "string?",
  serverVersion: "number?",
  trading: "boolean",
  readOnlyApi: "added boolean",
};
const POSITION: Shape<FeedPosition> = {
  account: "string",
  symbol: "string",
  localSymbol: "string",
  secType: "string",
  currency: "string",
  conId: "number",
  quantity: "number",
  avgCost: "number",
  marketPrice: "number?",
  marketValue: "number?",
  unrealizedPnl: "number?",
  realizedPnl: "number?",
  dailyPnl: "added number?",
};
const ORDER: Shape<FeedOrder> = {
  orderId: "number",
  clientId: "number",
  permId: "number",
  account: "string",
  symbol: "string",
  secType: "string",
  action: "string",
  quantity: "number",
  orderType: "string",
  lmtPrice: "number?",
  auxPrice: "number?",
  tif: "string",
  status: "string",
  filled: "number",
  remaining: "number",
  avgFillPrice: "number",
  updatedAt: "string",
};
const ACCOUNT: Shape<FeedAccount> = {
  account: "string",
  currency: "string",
  netLiquidation: "number?",
  totalCash: "number?",
  buyingPower: "number?",
  unrealizedPnl: "number?",
  realizedPnl: "number?",
  dailyPnl: "number?",
};

/** The fields checked per record, by the library's interface name (the contract test compares them). */
export const CHECKED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  FeedSource: Object.keys(SOURCE),
  FeedConnection: Object.keys(CONNECTION),
  FeedPosition: Object.keys(POSITION),
  FeedOrder: Object.keys(ORDER),
  FeedAccount: Object.keys(ACCOUNT),
};

const CONNECTION_STATES: ReadonlySet<string> = new Set([
  "connecting",
  "connected",
  "stale",
  "reconnecting",
  "disconnected",
]);
const BROKERS: ReadonlySet<string> = new Set(["ibkr-paper", "ibkr-live"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkField(value: unknown, kind: Kind, where: string): void {
  const fail = (expected: string) => {
    throw new PayloadError(`${where}: expected ${expected}, got ${describe(value)}`);
  };
  switch (kind) {
    case "string":
      if (typeof value !== "string") fail("a string");
      return;
    case "string?":
      if (value !== null && typeof value !== "string") fail("a string or null");
      return;
    case "number":
      // JSON has no NaN or Infinity, so a number that is not finite can only be a bug upstream.
      if (typeof value !== "number" || !Number.isFinite(value)) fail("a number");
      return;
    case "number?":
    case "added number?":
      if (value !== null && (typeof value !== "number" || !Number.isFinite(value))) fail("a number or null");
      return;
    case "boolean":
    case "added boolean":
      if (typeof value !== "boolean") fail("true or false");
      return;
    case "string[]":
      if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) fail("a list of strings");
      return;
  }
}

function checkRecord<T>(value: unknown, shape: Shape<T>, where: string): T {
  if (!isRecord(value)) throw new PayloadError(`${where}: expected an object, got ${describe(value)}`);
  const record: Record<string, unknown> = { ...value };
  for (const [key, kind] of Object.entries(shape) as Array<[string, Kind]>) {
    if (kind === "added number?" && record[key] === undefined) record[key] = null;
    if (kind === "added boolean" && record[key] === undefined) record[key] = false;
    checkField(record[key], kind, `${where}.${key}`);
  }
  return record as T;
}

function checkList<T>(value: unknown, shape: Shape<T>, where: string): T[] {
  if (!Array.isArray(value)) throw new PayloadError(`${where}: expected a list, got ${describe(value)}`);
  return value.map((item, index) => checkRecord(item, shape, `${where}[${index}]`));
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value).slice(0, 40)}`;
}

/** Accepts a v1 payload whole, or says why not. Extra fields are allowed (additions within v1). */
export function parsePayload(data: unknown): ParseResult {
  try {
    if (!isRecord(data)) throw new PayloadError(`payload: expected an object, got ${describe(data)}`);
    if (data.v !== FEED_VERSION) {
      throw new PayloadError(
        `unsupported feed version ${describe(data.v)}: this extension reads version ${FEED_VERSION}; ` +
          "update jupyterlab-ibkr or the ibkr-notebook library so that they match",
      );
    }
    checkField(data.seq, "number", "seq");
    checkField(data.ts, "string", "ts");
    const source = checkRecord(data.source, SOURCE, "source");
    if (!BROKERS.has(source.broker))
      throw new PayloadError(`source.broker: unknown broker ${describe(source.broker)}`);
    const connection = checkRecord(data.connection, CONNECTION, "connection");
    if (!CONNECTION_STATES.has(connection.state)) {
      throw new PayloadError(`connection.state: unknown state ${describe(connection.state)}`);
    }
    const payload: FeedPayload = {
      v: FEED_VERSION,
      seq: data.seq as number,
      ts: data.ts as string,
      source,
      connection,
      positions: checkList(data.positions, POSITION, "positions"),
      orders: checkList(data.orders, ORDER, "orders"),
      account: checkList(data.account, ACCOUNT, "account"),
    };
    return { ok: true, payload };
  } catch (error) {
    if (error instanceof PayloadError) return { ok: false, error: error.message };
    throw error;
  }
}
