/**
 * Every failure the library reports: the IB code when there is one, what happened, and what to do.
 * In a notebook an error prints as those three things (tslab would otherwise print the whole stack);
 * the stack stays on `err.stack`.
 */
import { inspect } from "node:util";

export interface ErrorDetails {
  /** IB's error code, when the failure came from TWS or IB Gateway. */
  code?: number;
  /** What happened, in a sentence. */
  what: string;
  /** What to do about it. */
  todo: string;
  /** The request id or order id TWS named, if any. */
  reqId?: number;
  cause?: unknown;
}

export class IbkrError extends Error {
  readonly code: number | undefined;
  readonly what: string;
  readonly todo: string;
  readonly reqId: number | undefined;

  constructor(details: ErrorDetails) {
    super(`${details.code === undefined ? "" : `[${details.code}] `}${details.what} ${details.todo}`, {
      cause: details.cause,
    });
    this.name = new.target.name;
    this.code = details.code;
    this.what = details.what;
    this.todo = details.todo;
    this.reqId = details.reqId;
  }

  /** How a notebook shows the error: code, what happened, what to do; no stack. */
  [inspect.custom](): string {
    const code = this.code === undefined ? "" : ` (IB ${this.code})`;
    return `${this.name}${code}: ${this.what}\n  → ${this.todo}`;
  }
}

/** An option or argument the library refuses before anything is sent. */
export class InvalidArgumentError extends IbkrError {
  constructor(
    readonly field: string,
    problem: string,
    fix: string,
  ) {
    super({ what: `${field}: ${problem}.`, todo: fix });
  }
}

/** Nothing accepted the connection on any port tried. */
export class ConnectionRefusedError extends IbkrError {
  constructor(
    readonly host: string,
    readonly ports: readonly number[],
    readonly broker: string,
    cause?: unknown,
  ) {
    const live = broker === "ibkr-live";
    super({
      code: 502,
      what: `Nothing is listening on ${host} port${ports.length > 1 ? "s" : ""} ${ports.join(", ")} (broker "${broker}").`,
      todo:
        `Start TWS or IB Gateway and log in to your ${live ? "live" : "paper"} account. In TWS: File → Global Configuration → API → Settings, ` +
        `tick "Enable ActiveX and Socket Clients", set the socket port (${live ? "7496" : "7497"}; IB Gateway uses ${live ? "4001" : "4002"}) ` +
        `and add 127.0.0.1 to Trusted IPs. Check with \`nc -z ${host} ${ports[0] ?? 7497}\`. ` +
        `${live ? 'If TWS is logged into paper, use broker: "ibkr-paper".' : 'If TWS is logged into live, use broker: "ibkr-live" with allowLive.'} ` +
        "No account at hand? Run the simulator: `npx ibkr-sim`.",
      cause,
    });
  }
}

/** TWS refused the client id: another connection holds it (326). */
export class ClientIdInUseError extends IbkrError {
  constructor(readonly clientId: number) {
    super({
      code: 326,
      what: `Client id ${clientId} is already in use on this TWS / IB Gateway.`,
      todo:
        `Another tool (the desktop dashboard uses 1, the JupyterLab monitor 3) or an earlier kernel that did not disconnect holds it. ` +
        `Connect with another id (clientId: ${clientId + 1}) or clientId: "auto", or close the other connection.`,
    });
  }
}

/** The socket opened but the API handshake did not finish: usually the login / 2FA window. */
export class HandshakeTimeoutError extends IbkrError {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly timeoutMs: number,
    stage: string,
  ) {
    super({
      what: `${host}:${port} accepted the connection but did not finish the API handshake within ${timeoutMs} ms (${stage}).`,
      todo:
        "If TWS / IB Gateway shows a login or second-factor prompt, complete it and wait for it to settle (API requests are rejected meanwhile), " +
        'then connect again. If it asks "Accept incoming connection attempt?", accept it (add 127.0.0.1 to Trusted IPs in File → Global Configuration → API → Settings so it stops asking). ' +
        "If it persists, check that the port belongs to TWS / IB Gateway and that API connections are enabled.",
    });
  }
}

/**
 * TWS sent bytes that are not a well-formed message: a bad length prefix, a message cut off, text
 * that is not UTF-8, a message id @stoqey/ib does not know, or fields it cannot decode. IB's client
 * codes: 505 (unknown message id), 507 (bad message length), 508 (bad message).
 */
export class ProtocolError extends IbkrError {
  /** The first characters of the message, fields separated by "|" (empty when the framing broke). */
  readonly excerpt: string;
  /** Whether the library dropped the connection over it (it then reconnects). */
  readonly dropsConnection: boolean;
  /**
   * The connection closed in the middle of a message: a restart or a network cut rather than a TWS
   * that writes bad messages, so it does not lengthen the wait before the next reconnect.
   */
  readonly cutOff: boolean;
  readonly host: string;
  readonly port: number;

  constructor(details: {
    code: 505 | 507 | 508;
    problem: string;
    excerpt: string;
    dropsConnection: boolean;
    cutOff?: boolean;
    host: string;
    port: number;
    cause?: unknown;
  }) {
    const { code, problem, excerpt, dropsConnection, cutOff = false, host, port, cause } = details;
    super({
      code,
      what: `Malformed message from ${host}:${port}: ${problem}${excerpt ? ` (message: "${excerpt}")` : ""}.`,
      todo:
        (cutOff
          ? "The library reconnects by itself, as after any dropped connection, then downloads positions, orders and fills afresh; it resends nothing. "
          : dropsConnection
            ? "The library dropped that connection and reconnects by itself (waiting longer each time if the next connections break too), then downloads positions, orders and fills afresh; it resends nothing. "
            : "The library skipped that message; the connection goes on. ") +
        `If it repeats, check that port ${port} belongs to TWS / IB Gateway (not another program or a proxy) and that TWS / IB Gateway is up to date.`,
      cause,
    });
    this.excerpt = excerpt;
    this.dropsConnection = dropsConnection;
    this.cutOff = cutOff;
    this.host = host;
    this.port = port;
  }
}

/** A request while the connection is down or reconnecting. */
export class NotConnectedError extends IbkrError {
  constructor(state: string, reason?: string) {
    super({
      code: 504,
      what: `Not connected to TWS / IB Gateway (state: ${state}${reason ? `; ${reason}` : ""}).`,
      todo: "Wait for the reconnect (await ib.ready()) or connect again with connect(); check that TWS / IB Gateway is running.",
    });
  }
}

/** The gateway restarted or IB's servers are unreachable (1100, 2110, a dropped socket). */
export class ConnectivityLostError extends IbkrError {
  constructor(code: number | undefined, message: string) {
    super({
      code,
      what: `Connectivity lost: ${message}`,
      todo: "The library reconnects by itself and restores subscriptions. TWS restarts once a day (Settings → Lock and Exit); schedule it after market close.",
    });
  }
}

/** No instrument matches the contract (200). */
export class NoSecurityDefinitionError extends IbkrError {
  constructor(description: string, reqId?: number) {
    super({
      code: 200,
      what: `No security definition found for ${description}.`,
      todo: 'Check the symbol, secType, exchange and currency (e.g. { symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" }); ib.search("…") lists matches.',
      reqId,
    });
  }
}

/** Too many streaming market-data lines (101), caught by the library or reported by TWS. */
export class MarketDataLinesError extends IbkrError {
  constructor(limit: number, reqId?: number) {
    super({
      code: 101,
      what: `Max number of market data lines reached (${limit} streaming subscriptions).`,
      todo: "Stop tickers you no longer need (ticker.stop()), use quote() snapshots, or raise the limit with IB (quote booster packs).",
      reqId,
    });
  }
}

/** IB's pacing: too many messages per second (100) or historical requests (162, 420). */
export class PacingError extends IbkrError {
  constructor(code: number, message: string, reqId?: number) {
    super({
      code,
      what: `Pacing violation: ${message}`,
      todo:
        code === 100
          ? "Send fewer requests per second (IB allows ~50 per client); the library paces its own requests, so check loops that call the API directly."
          : "Wait before repeating historical requests: no identical request within 15 s, at most 6 per contract per 2 s, 60 per 10 minutes.",
      reqId,
    });
  }
}

/** TWS refused or cancelled an order; carries IB's reason. */
export class OrderRejectedError extends IbkrError {
  constructor(code: number, message: string, orderId?: number) {
    super({
      code,
      what: `Order ${orderId ?? ""} rejected: ${message}`.replace("Order  ", "Order "),
      todo: "Read IB's reason above; fix the order (quantity, price on the tick grid, account, permissions) and place a new one.",
      reqId: orderId,
    });
  }
}

/**
 * TWS / IB Gateway has its "Read-Only API" setting ticked (a fresh install does): it refuses to list,
 * place or cancel orders through the API (321), while positions, account data, market data and
 * fills still work.
 */
export class ReadOnlyApiError extends IbkrError {
  constructor(
    /** What TWS refused, e.g. "open orders" or "order 12". */
    readonly refused: string,
    message = "The API interface is currently in Read-Only mode.",
    reqId?: number,
  ) {
    super({
      code: 321,
      what: `TWS / IB Gateway refused ${refused}: its API is in Read-Only mode (${message.trim()}).`,
      todo: 'In TWS: File → Global Configuration → API → Settings, untick "Read-Only API" (IB Gateway: Configure → Settings → API → Settings), then Apply; the next request goes through, no reconnect needed. Positions, account, market data and fills work meanwhile.',
      reqId,
    });
  }
}

/** Whether a TWS error text is the Read-Only API refusal (321). */
export const isReadOnlyRefusal = (code: number, message: string) =>
  code === 321 && /Read-Only mode/i.test(message);

/** A library safety guard refused an order before it was sent. */
export class TradingGuardError extends IbkrError {}

/** A request TWS did not answer in time. */
export class RequestTimeoutError extends IbkrError {
  constructor(what: string, timeoutMs: number) {
    super({
      what: `${what} got no answer within ${timeoutMs} ms.`,
      todo: "Check the connection (ib.state); TWS may be busy or restarting. Try again, or raise timeoutMs.",
    });
  }
}

/** Any other IB error, with its code and text. */
export class IbApiError extends IbkrError {
  constructor(code: number, message: string, reqId?: number) {
    super({
      code,
      what: message,
      todo: "See IB's message codes (interactivebrokers.github.io/tws-api/message_codes.html) for this code.",
      reqId,
    });
  }
}

/** IB codes that are notices, not failures (farm status, order warnings). */
export function isNotice(code: number): boolean {
  return (code >= 2100 && code < 2200) || code === 399 || code === 10167 || code === 10090 || code === 1102;
}

/** Maps an IB error for a request to the error class a user sees. */
export function fromIbError(code: number, message: string, reqId?: number): IbkrError {
  switch (code) {
    case 100:
    case 420:
      return new PacingError(code, message, reqId);
    case 162:
      return /pacing/i.test(message)
        ? new PacingError(code, message, reqId)
        : new IbApiError(code, message, reqId);
    case 101:
      return new MarketDataLinesError(Number(/\((\d+)/.exec(message)?.[1] ?? 100), reqId);
    case 200:
      return new NoSecurityDefinitionError(`request ${reqId ?? ""}`.trim(), reqId);
    case 103:
    case 104:
    case 105:
    case 110:
    case 201:
    case 202:
    case 387:
    case 434:
    case 435:
    case 10147:
    case 10148:
      return new OrderRejectedError(code, message, reqId);
    case 321:
      return isReadOnlyRefusal(code, message)
        ? new ReadOnlyApiError(reqId === undefined ? "the request" : `order ${reqId}`, message, reqId)
        : new IbApiError(code, message, reqId);
    case 326:
      return new ClientIdInUseError(reqId ?? -1);
    case 504:
      return new NotConnectedError("disconnected", message);
    case 1100:
    case 2110:
      return new ConnectivityLostError(code, message);
    default:
      return new IbApiError(code, message, reqId);
  }
}

/** An optional package a feature needs is not installed (or could not be loaded). */
export class MissingDependencyError extends IbkrError {
  constructor(
    /** The npm package, e.g. "arquero". */
    readonly packageName: string,
    /** What needed it, e.g. "toDataFrame()". */
    readonly feature: string,
    /** The command that installs it, e.g. "npm install arquero@8". */
    readonly installCommand: string,
    cause?: unknown,
    problem?: string,
  ) {
    super({
      what:
        problem ??
        `${feature} needs the package "${packageName}", which is not installed (ibkr-notebook leaves it optional to stay light).`,
      todo:
        `In a terminal, in the notebook's folder (where ibkr-notebook is installed), run \`${installCommand}\`; ` +
        "then restart the kernel (Node remembers a package it did not find until then) and run the cells again.",
      cause,
    });
  }
}
