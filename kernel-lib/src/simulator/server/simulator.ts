/**
 * ibkr-sim: a TWS / IB Gateway stand-in on the real TWS socket protocol. It owns the listening
 * socket, the client sessions, the account and exchange model and the clocks that move prices; it
 * routes model events to the sessions that should hear them and offers a control API for tests
 * (prices, fills, rejections, faults, and what each client sent).
 */
import { EventEmitter } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { AccountBook } from "../model/accounts";
import {
  Exchange,
  type Fill,
  isWorking,
  openOrderData,
  orderStatusData,
  type SimOrder,
} from "../model/exchange";
import { MarketModel } from "../model/market";
import { defaultScenario, type Scenario } from "../model/scenario";
import { Universe } from "../model/universe";
import { ProtocolError } from "../protocol/fields";
import type { ClientRequest } from "../protocol/messages";
import { parseRequest, UnknownRequestError } from "../protocol/parser";
import { MAX_SUPPORTED_VERSION } from "../protocol/versions";
import { handleRequest, sendAccountUpdates, sendMarketDataStep, sendPnl } from "./handlers";
import { ClientSession, type SessionHost } from "./session";

export interface SimulatorOptions {
  /** Interface to bind. Loopback unless `allowRemote` says otherwise. */
  host?: string;
  /** 0 picks a free port. Default 7497 (TWS paper). */
  port?: number;
  /** Binding anything but loopback must be asked for explicitly. */
  allowRemote?: boolean;
  scenario?: Scenario;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Market steps per second come from this; 0 stops the clock (tests call `step()`). Default 250 ms. */
  tickIntervalMs?: number;
  /** Account, portfolio and account-summary refresh. Default 3000 ms (TWS: ~3 min). */
  accountUpdateIntervalMs?: number;
  /** reqPnL / reqPnLSingle refresh. Default 1000 ms, as TWS. */
  pnlIntervalMs?: number;
  /** Highest server version to offer; clients get min(their max, this). Default 176. */
  maxServerVersion?: number;
  /** Incoming messages per second per client before error 100. Default 50. */
  messageRateLimit?: number;
  /** Rejected orders per client per minute before further orders are throttled. Default 20. */
  rejectThrottle?: number;
  /**
   * TWS's "Read-Only API" setting (on by default in a fresh TWS): requests that list, place or
   * cancel orders are refused with error 321; positions, account data, market data and fills work.
   */
  readOnlyApi?: boolean;
  /** Receives one line per notable event (connections, closes, faults). */
  log?: (line: string) => void;
}

export interface SessionInfo {
  connection: number;
  clientId: number | undefined;
  serverVersion: number;
  state: string;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export class TwsSimulator extends EventEmitter implements SessionHost {
  /** The built-in instruments and the scenario's synthetic stocks, if any. */
  readonly universe: Universe;
  readonly market: MarketModel;
  readonly accounts: AccountBook;
  readonly exchange: Exchange;
  readonly scenario: Scenario;
  readonly maxServerVersion: number;
  readonly messageRateLimit: number;
  readonly marketDataLines: number;
  latencyMs = 0;
  /** TWS's "Read-Only API" setting; `setReadOnlyApi` changes it while clients are connected. */
  readOnlyApi: boolean;

  private readonly sessions = new Set<ClientSession>();
  private server: Server | undefined;
  private boundPort = 0;
  private readonly host: string;
  private readonly timers: NodeJS.Timeout[] = [];
  private loginUntil = 0;
  private loginTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Ends a restart's down time early (close() during a restart). */
  private wakeRestart: (() => void) | undefined;
  private closing = false;
  private readonly logLine: (line: string) => void;

  constructor(private readonly options: SimulatorOptions = {}) {
    super();
    this.host = options.host ?? "127.0.0.1";
    if (!LOOPBACK.has(this.host) && !options.allowRemote) {
      throw new Error(
        `ibkr-sim binds to loopback only; to listen on ${this.host} pass allowRemote: true (--allow-remote)`,
      );
    }
    this.scenario = options.scenario ?? defaultScenario();
    this.universe = new Universe().withSyntheticStocks(this.scenario.syntheticStocks ?? 0);
    this.maxServerVersion = Math.min(
      options.maxServerVersion ?? MAX_SUPPORTED_VERSION,
      MAX_SUPPORTED_VERSION,
    );
    this.messageRateLimit = options.messageRateLimit ?? 50;
    this.readOnlyApi = options.readOnlyApi ?? false;
    this.marketDataLines = this.scenario.marketDataLines;
    this.logLine = options.log ?? (() => {});

    const prices = new Map<number, number>();
    for (const [key, price] of Object.entries(this.scenario.prices)) {
      const instrument = this.universe.get(key);
      if (instrument) prices.set(instrument.details.contract.conId, price);
    }
    this.market = new MarketModel(this.universe, options.seed ?? this.scenario.seed, prices, () =>
      this.now(),
    );
    this.accounts = new AccountBook(this.market, this.universe);
    this.exchange = new Exchange(this.universe, this.market, this.accounts, {
      rejectThrottle: options.rejectThrottle ?? 20,
      now: () => this.now(),
    });
    this.exchange.nextOrderId = this.scenario.nextOrderId;
    for (const account of this.scenario.accounts) {
      this.accounts.add(account.id, account.cash);
      for (const p of account.positions) {
        const instrument = this.universe.get(p.contract);
        if (instrument) this.accounts.setPosition(account.id, instrument, p.quantity, p.avgCost);
      }
    }
    this.exchange.setListener({
      orderChanged: (order) => this.onOrderChanged(order),
      orderError: (order, rejection) =>
        this.toOwner(order, (s) => s.sendError(order.orderId, rejection.code, rejection.message)),
      filled: (fill) => this.onFill(fill),
    });
    for (const o of this.scenario.openOrders) this.seedOrder(o);
  }

  /** Creates a simulator and starts listening. */
  static async start(options: SimulatorOptions = {}): Promise<TwsSimulator> {
    const sim = new TwsSimulator(options);
    await sim.listen();
    sim.startClocks();
    return sim;
  }

  now(): number {
    return Date.now();
  }

  log(line: string): void {
    this.logLine(line);
    this.emit("log", line);
  }

  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    return `${this.host}:${this.boundPort}`;
  }

  get accountIds(): string[] {
    return this.accounts.ids;
  }

  private listen(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.boundPort || (this.options.port ?? 7497), this.host, () => {
        server.off("error", reject);
        const address = server.address();
        if (address && typeof address === "object") this.boundPort = address.port;
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    const session = new ClientSession(socket, this);
    this.sessions.add(session);
    this.log(`connection ${session.label}`);
    this.emit("connection", session);
  }

  private startClocks(): void {
    const tick = this.options.tickIntervalMs ?? 250;
    if (tick > 0) this.timers.push(setInterval(() => this.step(), tick));
    const accountEvery = this.options.accountUpdateIntervalMs ?? 3000;
    if (accountEvery > 0) this.timers.push(setInterval(() => this.refreshAccounts(), accountEvery));
    const pnlEvery = this.options.pnlIntervalMs ?? 1000;
    if (pnlEvery > 0) this.timers.push(setInterval(() => this.refreshPnl(), pnlEvery));
    for (const timer of this.timers) timer.unref();
  }

  /** Stops listening, drops every client and stops the clocks. */
  async close(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    clearTimeout(this.loginTimer);
    clearTimeout(this.restartTimer);
    this.wakeRestart?.(); // a restart under way ends without listening again
    for (const session of this.sessions) session.destroy();
    const server = this.server;
    this.server = undefined;
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ── sessions ────────────────────────────────────────────────────────────────────────────────

  /** Sessions that completed startApi (or wait for login), i.e. hold a client id. */
  clients(): ClientSession[] {
    return [...this.sessions].filter((s) => s.clientId !== undefined && s.isOpen);
  }

  sessionInfo(): SessionInfo[] {
    return [...this.sessions].map((s) => ({
      connection: s.connection,
      clientId: s.clientId,
      serverVersion: s.serverVersion,
      state: s.state,
    }));
  }

  /** What a client sent, decoded, oldest first. */
  received(clientId: number): ClientRequest[] {
    return this.clients()
      .filter((s) => s.clientId === clientId)
      .flatMap((s) => s.received);
  }

  closed(session: ClientSession): void {
    if (!this.sessions.delete(session)) return;
    this.log(`closed ${session.label}`);
    this.emit("disconnect", session);
  }

  frame(session: ClientSession, fields: string[]): void {
    let request: ClientRequest;
    try {
      request = parseRequest(fields, session.serverVersion);
    } catch (error) {
      if (error instanceof UnknownRequestError) {
        session.sendError(
          -1,
          321,
          `Error validating request:-'${error.messageId}' : cause - Unknown message id`,
        );
      } else if (error instanceof ProtocolError) {
        session.sendError(-1, 320, `Error reading request:-'${fields[0] ?? ""}' : cause - ${error.message}`);
      } else {
        throw error;
      }
      this.log(`${session.label}: ${(error as Error).message}`);
      return;
    }
    session.record(request);
    this.emit("request", session, request);
    if (request.type !== "startApi" && session.state === "starting") {
      session.sendError(-1, 321, "Error validating request:-'' : cause - startApi must be the first request");
      return;
    }
    if (session.state === "awaitingLogin" && request.type !== "startApi") {
      const id = "reqId" in request ? request.reqId : "orderId" in request ? request.orderId : -1;
      session.sendError(
        id,
        322,
        "Error processing request: TWS is waiting for login (second-factor authentication); API requests are rejected until it completes",
      );
      return;
    }
    handleRequest(this, session, request);
  }

  /** Called by the startApi handler: admits the client, or refuses a duplicate id with 326. */
  admit(session: ClientSession, clientId: number): void {
    const holder = this.clients().find((s) => s.clientId === clientId && s !== session);
    if (holder) {
      session.sendError(
        -1,
        326,
        "Unable to connect as the client id is already in use. Retry with a unique client id.",
      );
      this.log(`${session.label}: client id ${clientId} is in use by ${holder.label}; refused (326)`);
      session.close();
      return;
    }
    session.clientId = clientId;
    if (this.now() < this.loginUntil) {
      session.state = "awaitingLogin";
      session.sendError(-1, 1100, "Connectivity between IB and Trader Workstation has been lost.");
      this.log(`${session.label}: started during the login window; waiting`);
      return;
    }
    this.greet(session);
  }

  /** What TWS sends once a client is in: accounts, the next order id, farm status. */
  private greet(session: ClientSession): void {
    session.state = "ready";
    session.send(session.encoder.managedAccounts(this.accounts.ids));
    session.send(session.encoder.nextValidId(this.exchange.nextOrderId));
    for (const [code, text] of FARMS_OK) session.sendError(-1, code, text);
    this.log(`${session.label}: ready (server version ${session.serverVersion})`);
  }

  /** Streaming market-data lines in use across every client (IB counts them per login). */
  linesInUse(): number {
    let lines = 0;
    for (const s of this.sessions) for (const sub of s.marketData.values()) if (!sub.snapshot) lines++;
    return lines;
  }

  // ── model events → clients ──────────────────────────────────────────────────────────────────

  private toOwner(order: SimOrder, send: (session: ClientSession) => void): void {
    for (const session of this.clients()) {
      if (session.state !== "ready") continue;
      const owner = session.clientId === order.clientId;
      // Client 0 with autoBind also hears manual (TWS-entered) orders, which belong to client 0.
      if (owner || (session.clientId === 0 && session.autoBind && order.clientId === 0)) send(session);
    }
  }

  private onOrderChanged(order: SimOrder): void {
    this.toOwner(order, (s) => {
      s.send(s.encoder.openOrder(openOrderData(order)));
      s.send(s.encoder.orderStatus(orderStatusData(order)));
    });
    this.emit("order", order);
  }

  private onFill(fill: Fill): void {
    this.toOwner(fill.order, (s) => {
      s.send(s.encoder.execDetails(-1, fill.execution));
      s.send(s.encoder.commissionReport(fill.commission));
    });
    const account = this.accounts.get(fill.order.account);
    const position = account?.positions.get(fill.order.instrument.details.contract.conId);
    if (account && position) {
      const data = this.accounts.positionData(account, position);
      for (const s of this.clients()) {
        if (s.state !== "ready") continue;
        if (s.positions) s.send(s.encoder.position(data));
        if (s.accountUpdates === account.id) sendAccountUpdates(this, s, { portfolioOnly: [position] });
      }
    }
    this.emit("fill", fill);
  }

  private seedOrder(o: Scenario["openOrders"][number]): void {
    const instrument = this.universe.get(o.contract);
    if (!instrument) return;
    const c = instrument.details.contract;
    const spec = { ...c, conId: c.conId, strike: c.strike };
    const request = {
      action: o.action,
      totalQuantity: o.quantity,
      orderType: o.orderType,
      lmtPrice: o.lmtPrice,
      auxPrice: o.auxPrice,
      tif: o.tif,
      ocaGroup: "",
      account: o.account,
      openClose: "",
      orderRef: "",
      transmit: true,
      parentId: 0,
      outsideRth: false,
      hidden: false,
      goodAfterTime: "",
      goodTillDate: "",
      whatIf: false,
      cashQty: undefined,
      algoStrategy: "",
      conditionCount: 0,
    };
    const checked = this.exchange.validate(o.clientId, spec, request);
    if ("code" in checked) throw new Error(`scenario order ${o.contract}: ${checked.message}`);
    this.exchange.place(o.clientId, o.orderId, request, checked);
  }

  // ── clocks ──────────────────────────────────────────────────────────────────────────────────

  /** One market step: prices move, orders match, subscribers hear about it. */
  step(count = 1): void {
    for (let i = 0; i < count; i++) {
      this.market.step(this.universe.instruments.map((inst) => inst.details.contract.conId));
      this.exchange.matchAll();
      for (const session of this.clients()) if (session.state === "ready") sendMarketDataStep(this, session);
    }
  }

  refreshAccounts(): void {
    for (const session of this.clients())
      if (session.state === "ready") sendAccountUpdates(this, session, {});
  }

  refreshPnl(): void {
    for (const session of this.clients()) if (session.state === "ready") sendPnl(this, session);
  }

  // ── control API (tests, demos) ──────────────────────────────────────────────────────────────

  /** Sets an instrument's last price ("AAPL", "EUR.USD") and lets orders match against it. */
  setPrice(key: string, price: number): void {
    const instrument = this.universe.get(key);
    if (!instrument) throw new Error(`unknown instrument "${key}"; known: ${this.universe.describeKeys()}`);
    this.market.setPrice(instrument.details.contract.conId, price);
    this.exchange.matchAll();
    for (const session of this.clients()) if (session.state === "ready") sendMarketDataStep(this, session);
  }

  /** Finds an order by the id its client gave it. */
  order(clientId: number, orderId: number): SimOrder | undefined {
    return this.exchange.find(clientId, orderId);
  }

  private mustOrder(clientId: number, orderId: number): SimOrder {
    const order = this.exchange.find(clientId, orderId);
    if (!order) throw new Error(`no order ${orderId} from client ${clientId}`);
    if (!isWorking(order)) throw new Error(`order ${orderId} from client ${clientId} is ${order.status}`);
    return order;
  }

  /** Fills (part of) a working order now, at a given price or the touch. */
  fillOrder(clientId: number, orderId: number, fill: { quantity?: number; price?: number } = {}): Fill {
    const order = this.mustOrder(clientId, orderId);
    const quote = this.market.quote(order.instrument.details.contract.conId);
    const price = fill.price ?? (order.action === "BUY" ? quote.ask : quote.bid);
    return this.exchange.fill(order, fill.quantity ?? order.totalQuantity - order.filled, price);
  }

  /** Cancels a working order as if from TWS (status Cancelled, error 202 to its client). */
  cancelOrder(clientId: number, orderId: number): void {
    this.exchange.finish(this.mustOrder(clientId, orderId), "Cancelled", {
      code: 202,
      message: "Order Canceled - reason:",
    });
  }

  /** Rejects a working order after acceptance (status Inactive, error 201 with the reason). */
  rejectOrder(clientId: number, orderId: number, reason = "Rejected by the simulator"): void {
    this.exchange.reject(this.mustOrder(clientId, orderId), reason);
  }

  // ── faults ──────────────────────────────────────────────────────────────────────────────────

  /**
   * The gateway's daily restart: every socket drops, connections are refused for `downMs`, then the
   * gateway listens again with its state (orders, positions, executions) intact.
   */
  async restart(options: { downMs?: number } = {}): Promise<void> {
    const downMs = options.downMs ?? 2_000;
    this.log(`fault: restart, down for ${downMs} ms`);
    for (const session of this.sessions) session.destroy();
    const server = this.server;
    this.server = undefined;
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (!this.closing) {
      await new Promise<void>((resolve) => {
        this.wakeRestart = resolve;
        this.restartTimer = setTimeout(resolve, downMs);
      });
      this.wakeRestart = undefined;
    }
    if (this.closing) {
      this.log("fault: restart abandoned, the simulator was closed");
      return;
    }
    await this.listen();
    this.log(`fault: restart done, listening on ${this.address}`);
    this.emit("restarted");
  }

  /** Half-open sockets: connections stay open but nothing is read or answered (reqCurrentTime neither). */
  halfOpen(clientId?: number): void {
    for (const session of this.sessions) {
      if (clientId === undefined || session.clientId === clientId) session.frozen = true;
    }
    this.log(`fault: half-open${clientId === undefined ? "" : ` for client ${clientId}`}`);
  }

  /**
   * The login / second-factor window after a gateway start: connections are accepted and the
   * handshake completes, but managedAccounts and nextValidId are withheld and requests are
   * rejected (322) until the window ends.
   */
  loginWindow(ms: number): void {
    this.loginUntil = this.now() + ms;
    clearTimeout(this.loginTimer);
    this.log(`fault: login window for ${ms} ms`);
    this.loginTimer = setTimeout(() => {
      this.loginUntil = 0;
      for (const session of this.clients()) {
        if (session.state !== "awaitingLogin") continue;
        session.sendError(
          -1,
          1102,
          "Connectivity between IB and Trader Workstation has been restored - data maintained.",
        );
        this.greet(session);
      }
      this.log("fault: login window over");
    }, ms);
    this.loginTimer.unref();
  }

  /**
   * A corrupt stream: writes `bytes` as they are (no framing added) to every ready client, or to one
   * client id, after whatever is already queued for it; with `close`, then closes the socket (a
   * message cut off by a dropped connection). Returns how many sessions got the bytes.
   */
  sendRaw(bytes: Buffer, options: { clientId?: number; close?: boolean } = {}): number {
    const targets = this.clients().filter(
      (s) => s.state === "ready" && (options.clientId === undefined || s.clientId === options.clientId),
    );
    for (const session of targets) {
      session.sendRaw(bytes);
      if (options.close) session.close();
    }
    this.log(
      `fault: ${bytes.length} raw bytes to ${targets.length} client${targets.length === 1 ? "" : "s"}${options.close ? ", then closed" : ""}`,
    );
    return targets.length;
  }

  /** Ticks or unticks TWS's "Read-Only API" setting; like TWS, it applies to the next request. */
  setReadOnlyApi(on: boolean): void {
    this.readOnlyApi = on;
    this.log(`Read-Only API ${on ? "on" : "off"}`);
  }

  /** Delays every message to clients by `ms` (0 to stop). */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /** IB ↔ TWS connectivity lost (1100): sockets stay up, the gateway says so. */
  connectivityLost(): void {
    this.notifyAll(1100, "Connectivity between IB and Trader Workstation has been lost.");
  }

  /** Connectivity back: 1102 (data maintained) or 1101 (data lost: market data subscriptions are dropped). */
  connectivityRestored(options: { dataLost?: boolean } = {}): void {
    if (options.dataLost) {
      for (const session of this.clients()) session.marketData.clear();
      this.notifyAll(1101, "Connectivity between IB and Trader Workstation has been restored - data lost.");
    } else {
      this.notifyAll(
        1102,
        "Connectivity between IB and Trader Workstation has been restored - data maintained.",
      );
    }
  }

  /** Farm status notices: OK (2104/2106/2158) or broken (2103/2105/2157). */
  farmStatus(ok: boolean): void {
    for (const [code, text] of ok ? FARMS_OK : FARMS_BROKEN) this.notifyAll(code, text);
  }

  private notifyAll(code: number, text: string): void {
    for (const session of this.clients()) if (session.state === "ready") session.sendError(-1, code, text);
    this.log(`notice ${code}: ${text}`);
  }
}

const FARMS_OK: ReadonlyArray<[number, string]> = [
  [2104, "Market data farm connection is OK:usfarm"],
  [2106, "HMDS data farm connection is OK:ushmds"],
  [2158, "Sec-def data farm connection is OK:secdefil"],
];

const FARMS_BROKEN: ReadonlyArray<[number, string]> = [
  [2103, "Market data farm connection is broken:usfarm"],
  [2105, "HMDS data farm connection is broken:ushmds"],
  [2157, "Sec-def data farm connection is broken:secdefil"],
];
