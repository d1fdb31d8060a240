/**
 * connect() options: from arguments, else from IBKR_* environment variables (so shared notebooks
 * carry no machine-specific ports), else defaults. Everything is validated before a socket opens.
 */
import { InvalidArgumentError } from "../errors";
import { DEFAULT_FEED_MAX_PER_SECOND } from "../feed/state-feed";

export type Broker = "ibkr-paper" | "ibkr-live";

/** TWS first, then IB Gateway, as the connectivity guide's port map. */
export const BROKER_PORTS: Readonly<Record<Broker, readonly number[]>> = {
  "ibkr-paper": [7497, 4002],
  "ibkr-live": [7496, 4001],
};

/** Which program usually listens on a port. */
export function hostKind(port: number): "TWS" | "IB Gateway" | "unknown" {
  if (port === 7496 || port === 7497) return "TWS";
  if (port === 4001 || port === 4002) return "IB Gateway";
  return "unknown";
}

export interface ConnectOptions {
  /** "ibkr-paper" (default) or "ibkr-live"; env IBKR_BROKER. */
  broker?: Broker;
  /** Default 127.0.0.1; env IBKR_HOST. */
  host?: string;
  /** An explicit port wins over the broker's ports; env IBKR_PORT. */
  port?: number;
  /** Default 2 (the desktop dashboard uses 1); "auto" takes the first free id from 2 up; env IBKR_CLIENT_ID. */
  clientId?: number | "auto";
  /** How long each port may take to finish the handshake. Default 5000 ms. */
  timeoutMs?: number;
  /** Allow orders. Default false: the connection is read-only. */
  trading?: boolean;
  /** Required, with trading, to send orders to a live account. */
  allowLive?: boolean;
  /** The account orders go to and single-account queries read; default: the only managed account. */
  account?: string;
  /** Keepalive interval (reqCurrentTime). Default 20000 ms; a missed answer marks the connection stale. */
  keepaliveMs?: number;
  /** Reconnect after drops. Default true. */
  reconnect?: boolean;
  /** Live orders allowed per minute. Default 10. */
  liveOrdersPerMinute?: number;
  /** In a notebook, the JupyterLab panels' feed: snapshots per second at most, under bursts. Default 4. */
  feedMaxPerSecond?: number;
}

export interface ResolvedOptions {
  broker: Broker;
  host: string;
  ports: readonly number[];
  explicitPort: boolean;
  clientId: number | "auto";
  timeoutMs: number;
  trading: boolean;
  allowLive: boolean;
  account: string | undefined;
  keepaliveMs: number;
  reconnect: boolean;
  liveOrdersPerMinute: number;
  feedMaxPerSecond: number;
}

const KNOWN = new Set([
  "broker",
  "host",
  "port",
  "clientId",
  "timeoutMs",
  "trading",
  "allowLive",
  "account",
  "keepaliveMs",
  "reconnect",
  "liveOrdersPerMinute",
  "feedMaxPerSecond",
]);

function integerIn(field: string, value: unknown, min: number, max: number, fix: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      field,
      `must be a whole number from ${min} to ${max}, got ${describe(value)}`,
      fix,
    );
  }
  return value;
}

/** A rate: any number above 0 up to `max`; fractions too (0.5 is one every 2 s). */
function rateUpTo(field: string, value: unknown, max: number, fix: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new InvalidArgumentError(
      field,
      `must be a number above 0 and at most ${max}, got ${describe(value)}`,
      fix,
    );
  }
  return value;
}

function boolean(field: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new InvalidArgumentError(
      field,
      `must be true or false, got ${describe(value)}`,
      `Pass ${field}: true or ${field}: false.`,
    );
  }
  return value;
}

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" && Number.isNaN(value)) return "NaN";
  return String(value);
}

/** An environment variable's text; unset and blank are the same (`IBKR_PORT= jupyter lab`). */
function envText(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const text = env[name];
  return text === undefined || text.trim() === "" ? undefined : text;
}

/** Reads an integer environment variable, naming the variable when it is not one. */
function envInteger(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = envText(env, name);
  if (text === undefined) return undefined;
  const value = Number(text.trim());
  if (!Number.isInteger(value)) {
    throw new InvalidArgumentError(
      name,
      `environment variable is not a whole number: ${JSON.stringify(text)}`,
      `Fix or unset ${name}.`,
    );
  }
  return value;
}

/**
 * Merges arguments over IBKR_* environment variables over defaults, and validates every field. A
 * variable is read only when its argument is absent (undefined or null, as `??` reads it): each read
 * of process.env calls into Node's environment, several microseconds when caches are cold.
 */
export function resolveOptions(
  options: ConnectOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(
      "options",
      `must be an object, got ${describe(options)}`,
      'Call connect({ broker: "ibkr-paper" }) or connect().',
    );
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      throw new InvalidArgumentError(
        key,
        "is not a connect() option",
        `Use one of: ${[...KNOWN].join(", ")}.`,
      );
    }
  }

  const envBroker = options.broker == null ? envText(env, "IBKR_BROKER")?.trim() : undefined;
  const brokerText = options.broker ?? envBroker ?? "ibkr-paper";
  const brokerField = envBroker !== undefined ? "IBKR_BROKER" : "broker";
  if (brokerText !== "ibkr-paper" && brokerText !== "ibkr-live") {
    throw new InvalidArgumentError(
      brokerField,
      `${describe(brokerText)} is not a broker`,
      'Use "ibkr-paper" (TWS 7497 / Gateway 4002) or "ibkr-live" (TWS 7496 / Gateway 4001).',
    );
  }
  const broker: Broker = brokerText;

  const envHost = options.host == null ? envText(env, "IBKR_HOST")?.trim() : undefined;
  const host = options.host ?? envHost ?? "127.0.0.1";
  if (typeof host !== "string" || host.trim() === "" || /\s/.test(host)) {
    throw new InvalidArgumentError(
      envHost !== undefined ? "IBKR_HOST" : "host",
      `must be a host name or IP address, got ${describe(host)}`,
      'Use "127.0.0.1" when TWS runs on this machine.',
    );
  }

  const portValue = options.port ?? envInteger(env, "IBKR_PORT");
  const portField = options.port !== undefined ? "port" : "IBKR_PORT";
  const port =
    portValue === undefined
      ? undefined
      : integerIn(
          portField,
          portValue,
          1,
          65535,
          "TWS listens on 7497 (paper) / 7496 (live); IB Gateway on 4002 / 4001.",
        );

  let clientId: number | "auto";
  const envClientId = options.clientId == null ? envText(env, "IBKR_CLIENT_ID")?.trim() : undefined;
  const rawClientId = options.clientId ?? envClientId ?? 2;
  const clientIdField = envClientId !== undefined ? "IBKR_CLIENT_ID" : "clientId";
  if (rawClientId === "auto") {
    clientId = "auto";
  } else {
    const numeric =
      typeof rawClientId === "string" && /^\s*-?\d+\s*$/.test(rawClientId)
        ? Number(rawClientId)
        : rawClientId;
    clientId = integerIn(
      clientIdField,
      numeric,
      0,
      2_147_483_647,
      'Pick a whole number not used by another tool (the dashboard uses 1), or "auto".',
    );
  }

  // A default needs no checking: only values given are validated (each check is code run on every connect).
  const timeoutMs =
    options.timeoutMs == null
      ? 5000
      : integerIn("timeoutMs", options.timeoutMs, 100, 600_000, "Pass a timeout in milliseconds, e.g. 5000.");
  const keepaliveMs =
    options.keepaliveMs == null
      ? 20_000
      : integerIn(
          "keepaliveMs",
          options.keepaliveMs,
          50,
          600_000,
          "Pass an interval in milliseconds; TWS drops idle sockets after ~30 s, so stay below that.",
        );
  const liveOrdersPerMinute =
    options.liveOrdersPerMinute == null
      ? 10
      : integerIn(
          "liveOrdersPerMinute",
          options.liveOrdersPerMinute,
          1,
          1000,
          "Pass a whole number of orders per minute, e.g. 10.",
        );
  const feedMaxPerSecond =
    options.feedMaxPerSecond == null
      ? DEFAULT_FEED_MAX_PER_SECOND
      : rateUpTo(
          "feedMaxPerSecond",
          options.feedMaxPerSecond,
          1000,
          `Pass snapshots per second, e.g. ${DEFAULT_FEED_MAX_PER_SECOND} (the default), or leave it out.`,
        );
  const trading = options.trading == null ? false : boolean("trading", options.trading);
  const allowLive = options.allowLive == null ? false : boolean("allowLive", options.allowLive);
  const reconnect = options.reconnect == null ? true : boolean("reconnect", options.reconnect);
  if (
    options.account !== undefined &&
    (typeof options.account !== "string" || !/^[A-Z]{1,3}\d+$/.test(options.account))
  ) {
    throw new InvalidArgumentError(
      "account",
      `${describe(options.account)} is not an IB account id`,
      'Use an id such as "DU1234567" (paper) or "U1234567" (live); ib.accounts lists them.',
    );
  }
  if (allowLive && broker !== "ibkr-live") {
    throw new InvalidArgumentError(
      "allowLive",
      `only applies to broker "ibkr-live", but broker is "${broker}"`,
      'Drop allowLive, or use broker: "ibkr-live".',
    );
  }

  return {
    broker,
    host: host.trim(),
    ports: port === undefined ? BROKER_PORTS[broker] : [port],
    explicitPort: port !== undefined,
    clientId,
    timeoutMs,
    trading,
    allowLive,
    account: options.account,
    keepaliveMs,
    reconnect,
    liveOrdersPerMinute,
    feedMaxPerSecond,
  };
}
