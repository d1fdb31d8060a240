/**
 * The IB object: one connection to TWS / IB Gateway and everything an analyst asks of it. Short verbs
 * (positions, portfolio, quote, bars, buy, sell), typed results, events for live state. Standing
 * subscriptions (positions, this client's orders, executions, tickers, P&L, account updates) are
 * restored after every reconnect; orders are never resent and order ids never reused.
 */
import { EventEmitter } from "node:events";
import { type InspectOptionsStylized, inspect } from "node:util";
import {
  type Contract,
  type ContractDetails,
  EventName,
  type ExecutionFilter,
  type IBApi,
  type Order,
  type OrderState,
} from "@stoqey/ib";
import { sendTogether } from "./connection/batch";
import { Connection, type ConnectionStatus, type Session } from "./connection/connection";
import { listen, unlisten } from "./connection/listen";
import { type ConnectOptions, describe, type ResolvedOptions, resolveOptions } from "./connection/options";
import { type ContractInput, contractLabel, toContract } from "./contracts";
import { toNumber } from "./display/format";
import {
  asAccount,
  asAccountSummary,
  asBars,
  asContract,
  asContracts,
  asFills,
  asOpenOrders,
  asPnl,
  asPortfolio,
  asPositionPnl,
  asPositions,
  asQuote,
  asQuotes,
  asTrade,
  asTrades,
  asWhatIf,
  type Displayable,
  inspectConnection,
  showConnection,
} from "./display/results";
import { isTslab, newLiveDisplay, publishHidden } from "./display/tslab";
import {
  openOrdersView,
  pnlView,
  portfolioView,
  positionPnlView,
  positionsView,
  quotesView,
} from "./display/views";
import {
  ConnectivityLostError,
  IbkrError,
  InvalidArgumentError,
  isReadOnlyRefusal,
  MarketDataLinesError,
  NoSecurityDefinitionError,
  NotConnectedError,
  ReadOnlyApiError,
  RequestTimeoutError,
} from "./errors";
import { FEED_MIME_TYPE, type FeedPayload } from "./feed/payload";
import { StateFeed } from "./feed/state-feed";
import { type LiveForm, LiveForms, onEvents } from "./live-forms";
import { type HistoryRequest, planHistory } from "./market-data/history";
import { HistoricalPacer } from "./market-data/pacing";
import { applyTick, emptyQuote, type Quote, Ticker } from "./market-data/ticker";
import { buildOrder, type OrderOptions, type OrderSpec } from "./orders/order-spec";
import { Trade } from "./orders/trade";
import { exchange, RequestRouter } from "./requests";
import { TradingGuard } from "./safety/guard";
import { type BrokerFeed, BrokerState, orderKey, positionKey } from "./state/broker-state";
import {
  type AccountValue,
  DONE_STATUSES,
  type Fill,
  type OrderRecord,
  type PnL,
  type PortfolioItem,
  type Position,
  type PositionPnL,
} from "./state/types";

export interface IBEvents {
  state: [ConnectionStatus];
  position: [Position];
  order: [OrderRecord];
  /** A fill arrived (its commission may follow: see "commission"). */
  fill: [Fill];
  /** A fill's commission report arrived; the same Fill object now carries commission and realized P&L. */
  commission: [Fill];
  /** TWS notices about the connection or data farms (1100–1102, 2104 …). */
  notice: [{ code: number; message: string }];
  /** Errors TWS sent that no pending request claimed, and malformed messages (ProtocolError). */
  warning: [IbkrError];
  /** TWS's "Read-Only API" setting, as last seen (see `ib.readOnlyApi`), changed. */
  readOnlyApi: [boolean];
  /** close() was called: the connection is gone for good. */
  closed: [];
}

export interface Bar {
  time: Date;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  wap: number;
  count: number;
}

export interface BarsOptions {
  /** How far back: "1 D", "2 W", "1 M", "1 Y", "3600 S". Default "1 M". */
  duration?: string;
  /** Bar size: "1 min", "5 mins", "1 hour", "1 day" … Default "1 day". */
  barSize?: string;
  /** TRADES, MIDPOINT, BID, ASK … Default TRADES (MIDPOINT for forex). */
  what?: string;
  /** End time "yyyyMMdd HH:mm:ss" (UTC) or a Date; default now. */
  end?: string | Date;
  /** Regular trading hours only. Default true. */
  useRTH?: boolean;
  /** Called before each request of a long download and once at the end. */
  onProgress?: (progress: { done: number; total: number; bars: number }) => void;
}

export interface ContractInfo {
  conId: number;
  symbol: string;
  secType: string;
  localSymbol: string;
  exchange: string;
  primaryExchange: string;
  currency: string;
  longName: string;
  minTick: number;
  multiplier: string;
  contract: Contract;
  details: ContractDetails;
}

export interface PositionPnlOptions {
  /** One account's positions; default every account's. */
  account?: string;
  /** At most this many positions, largest cost basis first; default all. */
  max?: number;
}

export interface WhatIfResult {
  initMarginChange: number | undefined;
  maintMarginChange: number | undefined;
  equityWithLoanChange: number | undefined;
  commission: number | undefined;
  commissionCurrency: string | undefined;
  warningText: string | undefined;
}

/** Every IB still open in this process, so SIGTERM (a kernel restart) can close them at once. */
const openConnections = new Set<IB>();
let sigtermHooked = false;

function hookSigterm(): void {
  if (sigtermHooked) return;
  sigtermHooked = true;
  const onSigterm = () => {
    for (const ib of openConnections) ib.close("the process is shutting down");
    process.removeListener("SIGTERM", onSigterm);
    // Nobody else handles SIGTERM: let it do what it would have done without us.
    if (process.listenerCount("SIGTERM") === 0) process.kill(process.pid, "SIGTERM");
  };
  process.on("SIGTERM", onSigterm);
}

const DEFAULT_MARKET_DATA_LINES = 100;
const REQUEST_TIMEOUT_MS = 10_000;

export class IB extends EventEmitter<IBEvents> {
  readonly options: ResolvedOptions;
  /** The broker state the library keeps: positions, orders, fills, account values, P&L. */
  readonly broker = new BrokerState(
    (fill) => fill.clientId === this.clientId && this.placedOrderIds.has(fill.orderId),
  );
  private readonly connection: Connection;
  private readonly router = new RequestRouter();
  private readonly guard: TradingGuard;
  /** Made on first use, like the forms below: most connections never download bars or show a live form. */
  private pacer: HistoricalPacer | undefined;
  private forms: LiveForms | undefined;
  /**
   * Aborted by close(): ends waits that would otherwise outlive the connection (historical pacing).
   * Made on first use (closingController), as most connections never wait: Node's AbortController
   * is among the costlier objects a connect() builds.
   */
  private closing: AbortController | undefined;
  /** Why close() was called, once it was. */
  private closedReason: string | undefined;
  private readonly trades = new Map<number, Trade>();
  /** Ids of the orders this connection placed (not those it took over): their fills are always news. */
  private readonly placedOrderIds = new Set<number>();
  private readonly tickers = new Map<Ticker, number>();
  private readonly pnlAccounts = new Set<string>();
  private pnlReqIds = new Map<number, string>();
  /** Positions (account/conId) whose P&L is subscribed: the current session's request id and its error route. */
  private positionPnlSubs = new Map<string, { reqId: number; offError: () => void; position: Position }>();
  private positionPnlKeys = new Map<number, string>();
  /**
   * Who waits for each open-orders listing, oldest first: neither openOrderEnd nor TWS's Read-Only
   * refusal carries a request id, and TWS answers in order.
   */
  private openOrderEnds: OpenOrdersWaiter[] = [];
  /** TWS refused an order request as Read-Only, and has not listed orders since. */
  private readOnlyRefused = false;
  /**
   * Orders a reconnect could not check against TWS's list because TWS refused to list them
   * (Read-Only API): checked at the first listing that comes.
   */
  private unchecked: { wasWorking: ReadonlySet<string>; unacknowledged: readonly Trade[] } | undefined;
  private portfolioAccount: string | undefined;
  private nextOrderId = 0;
  private detachSession: () => void = () => {};
  /** Listeners wired on the session (its feeds, its standing downloads), removed with it. */
  private sessionOffs: Array<() => void> = [];
  /** Which standing downloads this connection keeps (follow()); each session restarts them. */
  private readonly standing: StandingDownloads;
  /** What this connection has asked for (use()): each session carries the listeners of these alone. */
  private readonly feeds = new Set<Feed>();
  /** The session onSession wired (undefined once it is detached). */
  private wiredSession: Session | undefined;
  /** The day's fills were downloaded once: later downloads find what happened while the connection was down. */
  private fillsHistoryLoaded = false;
  private positionsLoaded: Promise<void> = Promise.resolve();
  /** Streaming market-data lines this connection may hold (IB's default is 100). */
  marketDataLines = DEFAULT_MARKET_DATA_LINES;

  constructor(options: ResolvedOptions) {
    super();
    this.options = options;
    this.guard = new TradingGuard(options);
    this.connection = new Connection(options);
    this.standing = { positions: false, orders: options.trading || options.clientId === 0 };
    // TWS pushes this client id's order updates and fills unasked (an earlier kernel's orders too):
    // their feed is wired from the first session, whatever the connection asks for.
    this.use("orders");
    // Like a stream that flows once it has a "data" listener: a listener of positions, orders or
    // fills is what needs their download.
    (this as EventEmitter).on("newListener", (event: string | symbol) => {
      if (event === "position") this.follow("positions");
      else if (event === "order" || event === "fill" || event === "commission") this.follow("orders");
    });
    this.connection.on("state", (status) => this.emit("state", status));
    this.connection.on("notice", (notice) => {
      this.emit("notice", notice);
      const session = this.liveWiredSession();
      if (notice.code === 1101 && session) this.restoreSubscriptions(session.api);
      // A listing of open orders refused (it has no request id, so TWS sends id -1: a notice).
      if (isReadOnlyRefusal(notice.code, notice.message)) {
        const error = new ReadOnlyApiError("to list open orders", notice.message);
        this.markReadOnly(error);
        this.openOrderEnds.shift()?.refused(error);
      }
    });
    this.connection.on("warning", (error) => this.emit("warning", error));
    this.connection.on("ready", (session, { reconnected }) => this.onSession(session, reconnected));
  }

  /** Connects (first time); resolves once TWS is ready. */
  async open(): Promise<this> {
    await this.connection.open();
    const account = this.options.account;
    if (account !== undefined && !this.accounts.includes(account)) {
      this.close("unknown account");
      throw new InvalidArgumentError(
        "account",
        `"${account}" is not managed by this login (accounts: ${this.accounts.join(", ")})`,
        "Pass one of the listed accounts, or leave account out.",
      );
    }
    openConnections.add(this);
    hookSigterm();
    return this;
  }

  /** In a notebook, the IB object shows as its connection card. */
  [inspect.custom](depth: number, options: InspectOptionsStylized): string {
    return inspectConnection(this.state, this.isLive, depth, options);
  }

  // ── connection ──────────────────────────────────────────────────────────────────────────────

  get state(): ConnectionStatus {
    return this.connection.state;
  }

  get accounts(): readonly string[] {
    return this.connection.state.accounts;
  }

  get clientId(): number | undefined {
    return this.connection.state.clientId;
  }

  get port(): number | undefined {
    return this.connection.state.port;
  }

  get serverVersion(): number | undefined {
    return this.connection.state.serverVersion;
  }

  /** "TWS" or "IB Gateway", from the port that answered. */
  get kind(): string {
    return this.connection.state.kind;
  }

  /** Whether orders would go to real money (live broker or a non-paper account). */
  get isLive(): boolean {
    return this.guard.isLive(this.accounts);
  }

  /**
   * Whether TWS has its "Read-Only API" setting ticked, as far as this session has seen: true once
   * TWS refused to list, place or cancel an order, false again once it lists open orders.
   */
  get readOnlyApi(): boolean {
    return this.readOnlyRefused;
  }

  /** TWS refused a request as Read-Only: said once (a warning), until TWS lists orders again. */
  private markReadOnly(error: ReadOnlyApiError): void {
    if (this.setReadOnly(true)) this.emit("warning", error);
  }

  /**
   * Waiters of a session that ended get no answer from it: they fail now rather than time out. The
   * error is made only when someone waits: an Error's stack costs tens of µs, on every connect.
   */
  private failOpenOrderWaiters(error: () => IbkrError): void {
    if (this.openOrderEnds.length === 0) return;
    const failure = error();
    for (const waiter of this.openOrderEnds.splice(0)) waiter.failed(failure);
  }

  /** Checks the orders a reconnect left unchecked against a listing TWS gave. */
  private checkUnchecked(listed: ReadonlySet<string>): void {
    const unchecked = this.unchecked;
    if (!unchecked) return;
    this.unchecked = undefined;
    this.retireUnlisted(unchecked.wasWorking, listed);
    this.retireUnacknowledged(unchecked.unacknowledged, listed);
  }

  /** Whether it changed (and said so, with a readOnlyApi event). */
  private setReadOnly(readOnly: boolean): boolean {
    if (this.readOnlyRefused === readOnly) return false;
    this.readOnlyRefused = readOnly;
    this.emit("readOnlyApi", readOnly);
    return true;
  }

  /** Resolves when connected (at once if already). */
  async ready(timeoutMs?: number): Promise<this> {
    await this.connection.ready(timeoutMs);
    return this;
  }

  /** Disconnects for good and stops every subscription. */
  close(reason = "closed by user"): void {
    openConnections.delete(this);
    this.forms?.stopAll();
    const closed = () => new NotConnectedError("disconnected", reason);
    if (this.closing && !this.closing.signal.aborted) this.closing.abort(closed());
    this.closedReason ??= reason;
    for (const ticker of [...this.tickers.keys()]) ticker.stop();
    this.detachSession();
    this.failOpenOrderWaiters(closed);
    this.connection.close(reason);
    this.emit("closed");
  }

  private get liveForms(): LiveForms {
    this.forms ??= new LiveForms();
    return this.forms;
  }

  private closingController(): AbortController {
    if (!this.closing) {
      this.closing = new AbortController();
      if (this.closedReason !== undefined)
        this.closing.abort(new NotConnectedError("disconnected", this.closedReason));
    }
    return this.closing;
  }

  private api(): IBApi {
    return this.connection.current().api;
  }

  /** The account a single-account request or an order uses. */
  private defaultAccount(field = "account"): string {
    if (this.options.account) return this.options.account;
    if (this.accounts.length === 1) return this.accounts[0] as string;
    throw new InvalidArgumentError(
      field,
      `this login manages several accounts (${this.accounts.join(", ")})`,
      `Say which: { account: "${this.accounts[0]}" }, or connect({ account }).`,
    );
  }

  private checkAccount(account: string | undefined, field = "account"): string {
    if (account === undefined) return this.defaultAccount(field);
    if (!this.accounts.includes(account)) {
      throw new InvalidArgumentError(
        field,
        `"${account}" is not managed by this login (accounts: ${this.accounts.join(", ")})`,
        "Pass one of the listed accounts.",
      );
    }
    return account;
  }

  // ── sessions: wiring and restoring subscriptions ────────────────────────────────────────────

  private onSession(session: Session, reconnected: boolean): void {
    this.detachSession();
    this.wiredSession = session;
    const { api } = session;
    this.nextOrderId = Math.max(this.nextOrderId, session.nextValidId);
    this.failOpenOrderWaiters(
      () => new NotConnectedError("reconnecting", "the connection dropped before TWS listed the open orders"),
    );
    // A request method reports some errors synchronously (a server too old for it): route them.
    const offRouter = this.router.attach(api, (error) => this.emit("warning", error));
    this.sessionOffs = [];
    // The standing requests go out in one write (see connection/batch.ts), before the listeners
    // below are wired: TWS works on them meanwhile, and nothing it answers is read before this
    // method returns. A fresh read-only connection has none to send.
    if (this.standing.positions || this.standing.orders || reconnected) {
      sendTogether(api, () => {
        this.requestStanding(session, this.standing, reconnected);
        if (reconnected) this.restoreSubscriptions(api);
      });
    }
    for (const feed of this.feeds) this.wireFeed(session, feed);
    this.detachSession = () => {
      this.wiredSession = undefined;
      offRouter();
      for (const off of this.sessionOffs.splice(0)) off();
    };
  }

  /**
   * Feeds the state from what answers `feed` on every session from now on, starting with the live
   * one. Called before the first request of each kind: a connection carries listeners only for what
   * it asked for (a read-only connection that reads positions does not listen for ticks or P&L), and
   * for its orders, which TWS pushes unasked.
   */
  private use(feed: Feed): void {
    if (this.feeds.has(feed)) return;
    this.feeds.add(feed);
    // What the connection itself does with the state's news, once: only these feeds bring it.
    if (feed === "positions") this.broker.on("position", (p) => this.onPosition(p));
    if (feed === "orders") {
      this.broker.on("order", (o) => this.onOrder(o));
      this.broker.on("fill", (f) => this.onFill(f));
      // Not news, but a trade taken over (cancelOrder) keeps every fill of its order.
      this.broker.on("historyFill", (f) => this.tradeOf(f)?.addFill(f, { news: false }));
      this.broker.on("commission", (f) => this.emit("commission", f));
    }
    const session = this.liveWiredSession();
    if (session) this.wireFeed(session, feed);
  }

  /** Wires the listeners of one feed on the session; they are removed with it. */
  private wireFeed(session: Session, feed: Feed): void {
    const { api } = session;
    const offs = this.sessionOffs;
    switch (feed) {
      case "positions":
      case "account":
        offs.push(this.broker.attach(api, feed));
        return;
      case "orders": {
        let autoBindAsked = false;
        offs.push(
          this.broker.attach(api, "orders"),
          listen(api, EventName.openOrderEnd, () => {
            this.setReadOnly(false);
            this.openOrderEnds.shift()?.done();
            // Client 0 binds TWS's manual orders, asked once TWS lists orders: asked while TWS is
            // Read-Only, its refusal (no request id either) would be taken for a later listing's answer.
            if (session.clientId === 0 && !autoBindAsked) {
              autoBindAsked = true;
              api.reqAutoOpenOrders(true);
            }
          }),
          // An order placed or cancelled while TWS is Read-Only: its trade or cancel fails through the
          // router; the connection notes it.
          listen(api, EventName.error, (error: Error, code: number, id: number) => {
            if (isReadOnlyRefusal(code, error?.message ?? ""))
              this.markReadOnly(new ReadOnlyApiError(`order ${id}`, error.message, id));
          }),
        );
        return;
      }
      case "marketData":
        offs.push(
          listen(api, EventName.tickPrice, (reqId: number, tickType: number, price?: number) =>
            this.onTick(reqId, tickType, price),
          ),
          listen(api, EventName.tickSize, (reqId: number, tickType: number, size?: number) =>
            this.onTick(reqId, tickType, size),
          ),
        );
        return;
      case "pnl":
        offs.push(
          listen(
            api,
            EventName.pnl,
            (reqId: number, daily?: number, unrealized?: number, realized?: number) => {
              const account = this.pnlReqIds.get(reqId);
              if (account)
                this.broker.setPnl({
                  account,
                  dailyPnl: daily,
                  unrealizedPnl: unrealized,
                  realizedPnl: realized,
                });
            },
          ),
          listen(
            api,
            EventName.pnlSingle,
            (
              reqId: number,
              pos: number,
              daily: number,
              unrealized?: number,
              realized?: number,
              value?: number,
            ) => {
              const key = this.positionPnlKeys.get(reqId);
              const sub = key === undefined ? undefined : this.positionPnlSubs.get(key);
              if (!sub) return;
              this.broker.setPositionPnl(sub.position, {
                quantity: pos,
                dailyPnl: toNumber(daily),
                unrealizedPnl: toNumber(unrealized),
                realizedPnl: toNumber(realized),
                marketValue: toNumber(value),
              });
            },
          ),
        );
        return;
    }
  }

  /**
   * Starts the standing downloads a connection keeps once something needs them (follow()): positions,
   * and this client's orders with every fill of today. A read-only connection that only asks for
   * quotes or bars never downloads them, so connect() sends nothing beyond the handshake (the day's
   * executions alone can be thousands of messages). A trading connection follows its orders from the
   * start, so that orders from before it (a restarted kernel's, same client id) and TWS's Read-Only
   * setting are known before the first order. The feed of JupyterLab's panels follows both.
   */
  private follow(kind: keyof StandingDownloads): void {
    if (this.standing[kind]) return;
    this.standing[kind] = true;
    this.use(kind);
    const session = this.liveWiredSession();
    if (!session) return; // onSession sends what this.standing asks for
    if (kind === "orders") {
      // Its two requests (open orders, executions) go out in one write.
      sendTogether(session.api, () =>
        this.requestStanding(session, { positions: false, orders: true }, false),
      );
    } else this.requestStanding(session, { positions: true, orders: false }, false);
  }

  /** The session onSession wired, while it is the live one. */
  private liveWiredSession(): Session | undefined {
    const session = this.wiredSession;
    return session && this.connection.isCurrent(session) ? session : undefined;
  }

  /** Sends the standing requests `which` asks for on `session`, and wires what answers them. */
  private requestStanding(session: Session, which: StandingDownloads, reconnected: boolean): void {
    const { api } = session;
    if (which.positions) {
      // A standing subscription; a fresh download replaces what we had.
      this.broker.resetPositions();
      this.positionsLoaded = new Promise<void>((resolve) => {
        api.once(EventName.positionEnd, () => resolve());
      });
      api.reqPositions();
    }
    if (!which.orders) return;
    // After a reconnect: this client's orders that were working before it, to check against the
    // open-order and execution downloads below.
    const wasWorking = reconnected ? this.workingOrderKeys(session.clientId) : new Set<string>();
    // …and orders sent just before the drop that TWS never acknowledged.
    const unacknowledged = reconnected
      ? [...this.trades.values()].filter(
          (t) => t.clientId === session.clientId && t.status === "PendingSubmit",
        )
      : [];
    const listed = new Set<string>();
    const executionsReqId = this.router.allocate();
    // The first complete download of executions is the day's history, whenever orders were first
    // followed (even while reconnecting); a later one finds what happened while the connection was
    // down, and says so.
    const history = !this.fillsHistoryLoaded;
    if (history) this.broker.startHistory(executionsReqId);
    // Judge only once both downloads are complete, whichever order TWS answers them in.
    let downloadsPending = 2;
    let ordersListed = true;
    const downloaded = () => {
      if (--downloadsPending > 0) return;
      this.unchecked = { wasWorking, unacknowledged };
      // Without TWS's list of open orders (Read-Only API), no order can be judged gone: that waits
      // for the first listing TWS gives (openOrders(), the monitor's refresh, the next reconnect).
      if (ordersListed) this.checkUnchecked(listed);
    };
    const offListed = listen(api, EventName.openOrder, (orderId: number, _c: Contract, order: Order) => {
      listed.add(orderKey(order.clientId ?? 0, orderId, order.permId ?? 0));
    });
    this.sessionOffs.push(
      offListed,
      listen(api, EventName.execDetailsEnd, (reqId: number) => {
        if (reqId !== executionsReqId) return;
        if (history) this.fillsHistoryLoaded = true;
        this.broker.endHistory(reqId);
        downloaded();
      }),
    );
    // Orders of this client, and every fill of today: after a reconnect these bring trades up to date.
    this.openOrderEnds.push({
      done: () => {
        offListed();
        downloaded();
      },
      refused: () => {
        offListed();
        ordersListed = false;
        downloaded();
      },
      failed: () => offListed(),
    });
    api.reqOpenOrders();
    api.reqExecutions(executionsReqId, {});
  }

  /** Keys of this client's orders the broker state holds as working. */
  private workingOrderKeys(clientId: number): Set<string> {
    const keys = new Set<string>();
    for (const [key, o] of this.broker.orders) {
      if (o.clientId === clientId && !DONE_STATUSES.has(o.status)) keys.add(key);
    }
    return keys;
  }

  /**
   * TWS lists only working orders. An order that was working before a reconnect, is not among the
   * open orders after it, and was not filled by the executions, ended while the connection was down
   * (cancelled in TWS, expired, rejected): it becomes Inactive, IB's status for an order that is no
   * longer active, instead of showing as working for ever.
   */
  private retireUnlisted(wasWorking: ReadonlySet<string>, listed: ReadonlySet<string>): void {
    for (const key of wasWorking) {
      if (!listed.has(key)) this.broker.retireOrder(key, "Inactive");
    }
  }

  /**
   * An order written into a socket that died before TWS acknowledged it, and that TWS does not list
   * after the reconnect, never reached TWS. It is not resent (that is the user's call): the trade
   * ends Inactive, saying so.
   */
  private retireUnacknowledged(trades: readonly Trade[], listed: ReadonlySet<string>): void {
    for (const trade of trades) {
      if (trade.status !== "PendingSubmit" || listed.has(orderKey(trade.clientId, trade.orderId, 0)))
        continue;
      if (trade.fills.length > 0) continue; // the executions download placed it after all
      trade.fail(
        new ConnectivityLostError(
          undefined,
          `order ${trade.orderId} never reached TWS: the connection dropped before TWS acknowledged it, and TWS does not list it after the reconnect. It was not resent.`,
        ),
      );
      trade.update({ ...pendingRecord(trade), status: "Inactive", remaining: 0 });
    }
  }

  /** Re-issues streaming subscriptions on the current session (after a reconnect or 1101). */
  private restoreSubscriptions(api: IBApi): void {
    for (const ticker of this.tickers.keys()) {
      const reqId = this.router.allocate();
      this.tickers.set(ticker, reqId);
      api.reqMktData(reqId, ticker.quote.contract, "", false, false);
    }
    this.pnlReqIds = new Map();
    for (const account of this.pnlAccounts) this.requestPnl(api, account);
    // Positions are downloaded afresh after a reconnect: each subscription keeps the position it was for.
    for (const [key, { position }] of [...this.positionPnlSubs]) {
      this.dropPositionPnl(key);
      this.requestPositionPnl(api, key, position);
    }
    if (this.portfolioAccount) api.reqAccountUpdates(true, this.portfolioAccount);
  }

  private onTick(reqId: number, tickType: number, value: number | undefined): void {
    for (const [ticker, id] of this.tickers) {
      if (id === reqId) {
        ticker.tick(tickType, value);
        return;
      }
    }
  }

  private onPosition(position: Position): void {
    this.emit("position", position);
    // A closed position's P&L subscription ends with it.
    if (position.quantity === 0)
      this.cancelPositionPnl(positionKey(position.account, position.contract.conId));
  }

  private onOrder(record: OrderRecord): void {
    if (record.clientId === this.clientId) this.trades.get(record.orderId)?.update(record);
    this.emit("order", record);
  }

  private onFill(fill: Fill): void {
    this.tradeOf(fill)?.addFill(fill);
    this.emit("fill", fill);
  }

  private tradeOf(fill: Fill): Trade | undefined {
    return fill.clientId === this.clientId ? this.trades.get(fill.orderId) : undefined;
  }

  // ── account ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Positions of every account (or one), with IB's average cost.
   * `await ib.positions.live()` shows them in a cell output that updates in place.
   */
  readonly positions: LiveQuery<[options?: { account?: string }], Position[] & Displayable> = liveQuery(
    async (options = {}) => asPositions(this.positionRows(await this.loadPositions(options))),
    async (options = {}) => {
      const account = await this.loadPositions(options);
      return this.liveForms.start(
        "positions",
        positionsView,
        () => this.positionRows(account),
        onEvents(this, ["position"]),
      );
    },
  );

  /** Waits for the standing positions download; returns the account asked for, if any. */
  private async loadPositions(options: { account?: string }): Promise<string | undefined> {
    this.api();
    const account = options.account === undefined ? undefined : this.checkAccount(options.account);
    this.follow("positions");
    await withTimeout(this.positionsLoaded, REQUEST_TIMEOUT_MS, "positions");
    return account;
  }

  private positionRows(account: string | undefined): Position[] {
    const rows = [...this.broker.positions.values()];
    return (account === undefined ? rows : rows.filter((p) => p.account === account)).sort(
      byAccountThenSymbol,
    );
  }

  /**
   * The portfolio of one account: positions with market price and value, unrealized and realized
   * P&L. Subscribes to IB's account updates (one account at a time, as IB allows) and keeps them live.
   */
  readonly portfolio: LiveQuery<[options?: { account?: string }], PortfolioItem[] & Displayable> = liveQuery(
    async (options = {}) => asPortfolio(this.portfolioRows(await this.loadPortfolio(options))),
    async (options = {}) => {
      const account = await this.loadPortfolio(options);
      return this.liveForms.start(
        "portfolio",
        portfolioView,
        () => this.portfolioRows(account),
        onEvents(this.broker, ["portfolio"]),
      );
    },
  );

  private portfolioRows(account: string): PortfolioItem[] {
    return [...this.broker.portfolio.values()].filter((p) => p.account === account).sort(byAccountThenSymbol);
  }

  /** Subscribes the account's updates (once); returns the account. */
  private async loadPortfolio(options: { account?: string }): Promise<string> {
    const api = this.api();
    const account = this.checkAccount(options.account);
    this.use("account");
    if (this.portfolioAccount !== account) {
      await exchange<void>(
        this.router,
        api,
        "portfolio (reqAccountUpdates)",
        REQUEST_TIMEOUT_MS,
        (_reqId, done) => {
          const off = listen(api, EventName.accountDownloadEnd, (name: string) => name === account && done());
          for (const key of [...this.broker.portfolio.keys()])
            if (key.startsWith(`${account}/`)) this.broker.portfolio.delete(key);
          api.reqAccountUpdates(true, account);
          return off;
        },
      );
      this.portfolioAccount = account;
    }
    return account;
  }

  /** Account values by tag (NetLiquidation, BuyingPower …) for one account, as numbers where they are. */
  async account(options: { account?: string } = {}): Promise<Record<string, number | string> & Displayable> {
    const account = this.checkAccount(options.account);
    const values = await this.accountSummary();
    const out: Record<string, number | string> = {};
    for (const v of values) {
      if (v.account !== account) continue;
      const n = Number(v.value);
      out[v.tag] = v.value !== "" && Number.isFinite(n) ? n : v.value;
    }
    return asAccount(out, account);
  }

  /** IB's account summary for every account: one row per account and tag. */
  async accountSummary(tags = "All"): Promise<AccountValue[] & Displayable> {
    const api = this.api();
    this.use("account");
    const rows: AccountValue[] = [];
    await exchange<void>(this.router, api, "accountSummary", REQUEST_TIMEOUT_MS, (reqId, done) => {
      const offs = [
        listen(
          api,
          EventName.accountSummary,
          (id: number, account: string, tag: string, value: string, currency: string) => {
            if (id === reqId) rows.push({ account, tag, value, currency });
          },
        ),
        listen(api, EventName.accountSummaryEnd, (id: number) => {
          if (id !== reqId) return;
          api.cancelAccountSummary(reqId);
          done();
        }),
      ];
      api.reqAccountSummary(reqId, "All", tags);
      return unlisten(offs);
    });
    return asAccountSummary(rows);
  }

  /** Daily, unrealized and realized P&L of one account; the subscription stays live (`.live()` shows it). */
  readonly pnl: LiveQuery<[options?: { account?: string }], PnL & Displayable> = liveQuery(
    async (options = {}) => asPnl(await this.loadPnl(options)),
    async (options = {}) => {
      const first = await this.loadPnl(options);
      return this.liveForms.start(
        "P&L",
        pnlView,
        () => this.broker.pnl.get(first.account) ?? first,
        onEvents(this.broker, ["pnl"]),
      );
    },
  );

  private async loadPnl(options: { account?: string }): Promise<PnL> {
    const api = this.api();
    const account = this.checkAccount(options.account);
    const known = this.broker.pnl.get(account);
    if (this.pnlAccounts.has(account) && known) return known;
    this.pnlAccounts.add(account);
    this.use("pnl");
    const pnl = await exchange<PnL>(this.router, api, "pnl", REQUEST_TIMEOUT_MS, (_reqId, done) => {
      const onPnl = (p: PnL) => p.account === account && done(p);
      this.broker.on("pnl", onPnl);
      this.requestPnl(api, account);
      return () => this.broker.off("pnl", onPnl);
    });
    return pnl;
  }

  private requestPnl(api: IBApi, account: string): void {
    const reqId = this.router.allocate();
    this.pnlReqIds.set(reqId, account);
    api.reqPnL(reqId, account, "");
  }

  /**
   * Today's, unrealized and realized P&L of each position (IB's reqPnLSingle), largest cost basis
   * first. The subscriptions stay live (`.live()` shows them) and are restored after a reconnect; a
   * position that closes drops its own. `max` bounds how many positions are subscribed: each is a
   * request, and requests are paced at 40 a second.
   */
  readonly positionPnl: LiveQuery<[options?: PositionPnlOptions], PositionPnL[] & Displayable> = liveQuery(
    async (options = {}) => asPositionPnl(this.positionPnlRows(await this.loadPositionPnl(options))),
    async (options = {}) => {
      const keys = await this.loadPositionPnl(options);
      return this.liveForms.start(
        "P&L by position",
        positionPnlView,
        () => this.positionPnlRows(keys),
        onEvents(this.broker, ["positionPnl"]),
      );
    },
  );

  private positionPnlRows(keys: readonly string[]): PositionPnL[] {
    return keys.flatMap((key) => this.broker.positionPnl.get(key) ?? []).sort(byAccountThenSymbol);
  }

  /** Subscribes the chosen positions (those not yet subscribed) and waits for each one's first answer. */
  private async loadPositionPnl(options: PositionPnlOptions): Promise<string[]> {
    const max = options.max ?? Number.POSITIVE_INFINITY;
    if (max !== Number.POSITIVE_INFINITY && !(Number.isInteger(max) && max > 0))
      throw new InvalidArgumentError(
        "max",
        `must be a whole number above 0, got ${String(max)}`,
        "Pass e.g. { max: 50 }, or leave it out for every position.",
      );
    const account = await this.loadPositions(options);
    const api = this.api();
    this.use("pnl");
    const chosen = this.positionRows(account)
      .sort((a, b) => Math.abs(b.quantity * b.avgCost) - Math.abs(a.quantity * a.avgCost))
      .slice(0, max);
    const keys = chosen.map((p) => positionKey(p.account, p.contract.conId));
    chosen.forEach((position, i) => {
      const key = keys[i] as string;
      if (!this.positionPnlSubs.has(key)) this.requestPositionPnl(api, key, position);
    });
    // Answered: a first P&L, or the subscription ended (the position closed, or TWS refused it: a warning).
    const answered = () =>
      keys.every((key) => this.broker.positionPnl.has(key) || !this.positionPnlSubs.has(key));
    if (!answered()) {
      await withTimeout(
        new Promise<void>((resolve) => {
          const check = () => {
            if (!answered()) return;
            this.broker.off("positionPnl", check);
            this.off("warning", check);
            resolve();
          };
          this.broker.on("positionPnl", check);
          this.on("warning", check);
        }),
        REQUEST_TIMEOUT_MS + keys.length * 25, // 40 requests a second go out
        "P&L by position",
      );
    }
    return keys;
  }

  private requestPositionPnl(api: IBApi, key: string, position: Position): void {
    const reqId = this.router.allocate();
    const offError = this.router.onRequestError(reqId, (error) => {
      this.dropPositionPnl(key);
      this.emit("warning", error);
    });
    this.positionPnlSubs.set(key, { reqId, offError, position });
    this.positionPnlKeys.set(reqId, key);
    api.reqPnLSingle(reqId, position.account, "", position.contract.conId ?? 0);
  }

  /** Forgets a position's P&L subscription; returns its request id, if there was one. */
  private dropPositionPnl(key: string): number | undefined {
    const sub = this.positionPnlSubs.get(key);
    if (!sub) return undefined;
    sub.offError();
    this.positionPnlSubs.delete(key);
    this.positionPnlKeys.delete(sub.reqId);
    return sub.reqId;
  }

  private cancelPositionPnl(key: string): void {
    const reqId = this.dropPositionPnl(key);
    if (reqId === undefined) return;
    try {
      this.api().cancelPnLSingle(reqId);
    } catch {
      // not connected: nothing to cancel, and a reconnect will not restore it
    }
  }

  // ── orders and fills ────────────────────────────────────────────────────────────────────────

  /**
   * Every working order of every client (reqAllOpenOrders), this connection's first. The live form
   * follows this connection's orders as they change; TWS does not push other clients' orders.
   */
  readonly openOrders: LiveQuery<[], OrderRecord[] & Displayable> = liveQuery(
    async () => asOpenOrders(this.orderRows(await this.loadOpenOrders())),
    async () => {
      const keys = await this.loadOpenOrders();
      const rows = () => {
        for (const [key, o] of this.broker.orders) if (o.clientId === this.clientId) keys.add(key);
        return this.orderRows(keys);
      };
      return this.liveForms.start("open orders", openOrdersView, rows, onEvents(this, ["order"]));
    },
  );

  private orderRows(keys: Iterable<string>): OrderRecord[] {
    const mine = this.clientId;
    return [...keys]
      .map((key) => this.broker.orders.get(key))
      .filter((o): o is OrderRecord => o !== undefined && !DONE_STATUSES.has(o.status))
      .sort((a, b) => Number(b.clientId === mine) - Number(a.clientId === mine) || a.orderId - b.orderId);
  }

  /** Every client's working orders, as order keys. */
  private async loadOpenOrders(): Promise<Set<string>> {
    const api = this.api();
    const seen = new Set<string>();
    await exchange<void>(this.router, api, "openOrders", REQUEST_TIMEOUT_MS, (_reqId, done, fail) => {
      const offs = [
        listen(api, EventName.openOrder, (orderId: number, _c: Contract, order: Order, _s: OrderState) => {
          if (!order.whatIf) seen.add(orderKey(order.clientId ?? 0, orderId, order.permId ?? 0));
        }),
      ];
      // Not the first openOrderEnd to come, which may answer an earlier reqOpenOrders, but ours.
      this.openOrderEnds.push({
        done: () =>
          setImmediate(() => {
            this.checkUnchecked(seen);
            done();
          }),
        refused: fail,
        failed: fail,
      });
      api.reqAllOpenOrders();
      return unlisten(offs);
    });
    return seen;
  }

  /** Today's fills (this client's; all clients' for client 0), with commissions. */
  async fills(filter: ExecutionFilter = {}): Promise<Fill[] & Displayable> {
    const api = this.api();
    const execIds: string[] = [];
    await exchange<void>(this.router, api, "executions", REQUEST_TIMEOUT_MS, (reqId, done) => {
      const offs = [
        listen(api, EventName.execDetails, (id: number, _c: Contract, e: { execId?: string }) => {
          if (id === reqId && e.execId) execIds.push(e.execId);
        }),
        // Each execution's commission report follows it; let the last one land before answering.
        listen(api, EventName.execDetailsEnd, (id: number) => id === reqId && setImmediate(done)),
      ];
      api.reqExecutions(reqId, filter);
      return unlisten(offs);
    });
    return asFills(execIds.map((id) => this.broker.fills.get(id)).filter((f): f is Fill => f !== undefined));
  }

  /** Alias of fills(): IB calls them executions. */
  executions(filter: ExecutionFilter = {}): Promise<Fill[] & Displayable> {
    return this.fills(filter);
  }

  /** Trades this connection placed, oldest first. */
  get allTrades(): Trade[] & Displayable {
    return asTrades([...this.trades.values()]);
  }

  /**
   * Places an order and resolves once TWS acknowledged it (or throws its rejection). The returned
   * trade keeps updating: status, fills, commissions.
   */
  async placeOrder(contractInput: ContractInput, spec: OrderSpec): Promise<Trade> {
    const contract = toContract(contractInput);
    const order = buildOrder(spec);
    const session = this.connection.current();
    const account = this.checkAccount(spec.account);
    this.guard.checkOrder(account, this.accounts);
    const orderId = this.nextOrderId++;
    const trade = asTrade(new Trade(orderId, session.clientId, contract, { ...order, account }));
    this.trades.set(orderId, trade);
    this.placedOrderIds.add(orderId);
    const acknowledged = new Promise<Trade>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new RequestTimeoutError(`order ${orderId}`, REQUEST_TIMEOUT_MS)),
        REQUEST_TIMEOUT_MS,
      );
      timer.unref();
      trade.once("status", () => {
        clearTimeout(timer);
        resolve(trade);
      });
      const offError = this.router.onOrderError(orderId, (ibError) => {
        // A cancel refused as Read-Only: the order itself stands (cancelOrder reports the refusal).
        if (ibError instanceof ReadOnlyApiError && trade.status !== "PendingSubmit") return;
        const error =
          ibError.code === 200
            ? new NoSecurityDefinitionError(`"${contractLabel(contract)}"`, orderId)
            : ibError;
        trade.fail(error);
        // An error before TWS acknowledged the order means it was refused (200 unknown contract, 201,
        // 103, 110, 387, 434 …; 404 only holds it while shares are located). Reject first: marking
        // the trade Inactive emits "status", which would otherwise resolve this promise.
        if (trade.status === "PendingSubmit" && error.code !== 404) {
          clearTimeout(timer);
          reject(error);
          trade.update({ ...pendingRecord(trade), status: "Inactive" });
        }
      });
      trade.once("done", offError);
    });
    session.api.placeOrder(orderId, contract, trade.order);
    return acknowledged;
  }

  /** Buys `quantity`: market, or limit/stop with `limit` / `stop`. */
  buy(contract: ContractInput, quantity: number, options: OrderOptions = {}): Promise<Trade> {
    return this.placeOrder(contract, { ...options, side: "BUY", quantity });
  }

  /** Sells `quantity` (a positive number): market, or limit/stop with `limit` / `stop`. */
  sell(contract: ContractInput, quantity: number, options: OrderOptions = {}): Promise<Trade> {
    return this.placeOrder(contract, { ...options, side: "SELL", quantity });
  }

  /**
   * Cancels an order of this client id; resolves with its trade once TWS confirms (undefined for an
   * order this connection never saw, once TWS says it is cancelled). Orders of a previous session with
   * the same client id are adopted as trades first, so they report their end too.
   */
  async cancelOrder(target: Trade | number): Promise<Trade | undefined> {
    const orderId = typeof target === "number" ? target : target.orderId;
    if (!Number.isInteger(orderId) || orderId <= 0) {
      throw new InvalidArgumentError(
        "orderId",
        `must be a positive whole number, got ${describe(orderId)}`,
        "Pass a trade returned by buy/sell/placeOrder, or its orderId.",
      );
    }
    const api = this.api();
    const trade = this.trades.get(orderId) ?? this.adoptTrade(orderId);
    // A cancel changes orders too: refused when read-only, on an account mismatch, or live without allowLive.
    this.guard.checkChange(this.accounts, trade?.order.account || undefined);
    if (trade?.isDone) return trade;
    return new Promise<Trade | undefined>((resolve, reject) => {
      let settled = false;
      let offError: () => void = () => {};
      const finish = (action: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        offError();
        trade?.off("done", onDone);
        action();
      };
      const timer = setTimeout(
        () => finish(() => reject(new RequestTimeoutError(`cancel of order ${orderId}`, REQUEST_TIMEOUT_MS))),
        REQUEST_TIMEOUT_MS,
      );
      timer.unref();
      const onDone = () => finish(() => resolve(trade));
      trade?.once("done", onDone);
      offError = this.router.onOrderError(orderId, (error) => {
        // 202 confirms the cancel: a trade's Cancelled status follows; without a trade it is the answer.
        if (error.code === 202) {
          if (!trade) finish(() => resolve(undefined));
          return;
        }
        // Not found, or no longer cancellable (filled meanwhile): the trade, if any, tells how it ended.
        if (error.code === 10147 || error.code === 10148)
          finish(() => (trade ? resolve(trade) : reject(error)));
        if (error instanceof ReadOnlyApiError)
          finish(() => reject(new ReadOnlyApiError(`the cancel of order ${orderId} (it is still working)`)));
      });
      api.cancelOrder(orderId);
    });
  }

  /** A trade for an order of this client id that the broker state knows but this connection did not place. */
  private adoptTrade(orderId: number): Trade | undefined {
    const clientId = this.clientId;
    if (clientId === undefined) return undefined;
    const record = this.broker.orders.get(orderKey(clientId, orderId, 0));
    if (!record) return undefined;
    const trade = asTrade(
      new Trade(orderId, clientId, record.contract, {
        action: record.action as never,
        totalQuantity: record.quantity,
        orderType: record.orderType as never,
        lmtPrice: record.lmtPrice,
        auxPrice: record.auxPrice,
        tif: record.tif as never,
        account: record.account,
      }),
    );
    trade.update(record);
    for (const fill of this.broker.fills.values()) {
      if (fill.clientId === clientId && fill.orderId === orderId) trade.addFill(fill, { news: false });
    }
    this.trades.set(orderId, trade);
    return trade;
  }

  /** reqGlobalCancel: cancels every working order of every client and TWS. Needs trading enabled. */
  async cancelAll(): Promise<void> {
    this.api();
    this.guard.checkChange(this.accounts);
    // TWS confirms a global cancel only through order statuses, and refuses one in Read-Only API mode
    // with an error that names no request: a listing first tells that case apart, so cancelAll fails
    // instead of resolving as if done. A slow listing does not hold back a cancel-everything.
    try {
      await this.loadOpenOrders();
    } catch (error) {
      if (error instanceof ReadOnlyApiError) throw new ReadOnlyApiError("the global cancel (cancelAll)");
      if (!(error instanceof RequestTimeoutError)) throw error;
    }
    this.api().reqGlobalCancel();
  }

  /** Margin and commission impact of an order, without placing it. */
  async whatIf(contractInput: ContractInput, spec: OrderSpec): Promise<WhatIfResult & Displayable> {
    const contract = toContract(contractInput);
    const order = buildOrder(spec);
    const session = this.connection.current();
    const account = this.checkAccount(spec.account);
    this.guard.checkOrder(account, this.accounts);
    const orderId = this.nextOrderId++;
    const api = session.api;
    return new Promise<WhatIfResult & Displayable>((resolve, reject) => {
      const timer = setTimeout(
        () => finish(new RequestTimeoutError(`whatIf order ${orderId}`, REQUEST_TIMEOUT_MS)),
        REQUEST_TIMEOUT_MS,
      );
      timer.unref();
      const offError = this.router.onOrderError(orderId, (error) => finish(error));
      const offOpen = listen(
        api,
        EventName.openOrder,
        (id: number, _c: Contract, _o: Order, state: OrderState) => {
          if (id !== orderId) return;
          finish(undefined, {
            initMarginChange: num(state.initMarginChange),
            maintMarginChange: num(state.maintMarginChange),
            equityWithLoanChange: num(state.equityWithLoanChange),
            commission: state.commission,
            commissionCurrency: state.commissionCurrency,
            warningText: state.warningText || undefined,
          });
        },
      );
      const finish = (error: Error | undefined, result?: WhatIfResult) => {
        clearTimeout(timer);
        offError();
        offOpen();
        if (error) reject(error);
        else
          resolve(
            asWhatIf(result as WhatIfResult, `${spec.side} ${spec.quantity} ${contractLabel(contract)}`),
          );
      };
      api.placeOrder(orderId, contract, { ...order, account, whatIf: true });
    });
  }

  // ── contracts and market data ───────────────────────────────────────────────────────────────

  /** Every contract matching the input (a symbol across security types, or a partial contract). */
  async search(input: ContractInput): Promise<ContractInfo[] & Displayable> {
    const spec = typeof input === "string" ? { symbol: input.trim().toUpperCase() } : toContract(input);
    return asContracts(await this.contractDetails(spec));
  }

  /** The one contract the input means, with its details; throws if none or several match. */
  async contract(input: ContractInput): Promise<ContractInfo & Displayable> {
    const spec = toContract(input);
    const matches = await this.contractDetails(spec);
    if (matches.length > 1) {
      throw new InvalidArgumentError(
        "contract",
        `"${contractLabel(spec)}" matches ${matches.length} contracts (${matches.map((m) => `${m.localSymbol} ${m.secType} ${m.exchange}`).join("; ")})`,
        "Add secType, exchange, currency or lastTradeDateOrContractMonth to say which, or pass its conId.",
      );
    }
    return asContract(matches[0] as ContractInfo);
  }

  private async contractDetails(spec: Contract): Promise<ContractInfo[]> {
    const api = this.api();
    const found: ContractDetails[] = [];
    await exchange<void>(
      this.router,
      api,
      `contract ${contractLabel(spec)}`,
      REQUEST_TIMEOUT_MS,
      (reqId, done) => {
        const offs = [
          listen(
            api,
            EventName.contractDetails,
            (id: number, details: ContractDetails) => id === reqId && found.push(details),
          ),
          listen(api, EventName.contractDetailsEnd, (id: number) => id === reqId && done()),
        ];
        api.reqContractDetails(reqId, spec);
        return unlisten(offs);
      },
      { contract: `"${contractLabel(spec)}"` },
    );
    return found.map(toContractInfo);
  }

  /** A snapshot quote: bid, ask, last, sizes, volume, day range. */
  async quote(input: ContractInput): Promise<Quote & Displayable> {
    const contract = toContract(input);
    const api = this.api();
    const quote = emptyQuote(contract);
    await exchange<void>(
      this.router,
      api,
      `quote ${contractLabel(contract)}`,
      REQUEST_TIMEOUT_MS,
      (reqId, done) => {
        const offs = [
          listen(
            api,
            EventName.tickPrice,
            (id: number, type: number, price?: number) => id === reqId && applyTick(quote, type, price),
          ),
          listen(
            api,
            EventName.tickSize,
            (id: number, type: number, size?: number) => id === reqId && applyTick(quote, type, size),
          ),
          listen(api, EventName.tickSnapshotEnd, (id: number) => id === reqId && done()),
        ];
        api.reqMktData(reqId, contract, "", true, false);
        return unlisten(offs);
      },
      { contract: `"${contractLabel(contract)}"` },
    );
    return asQuote(quote);
  }

  /**
   * Snapshot quotes of several instruments, in order. `.live()` streams them instead (one market-data
   * line each) in a table that updates in place; stopping the form frees the lines.
   */
  readonly quotes: LiveQuery<[inputs: readonly ContractInput[]], Quote[] & Displayable> = liveQuery(
    async (inputs) => {
      const contracts = this.quoteContracts(inputs);
      return asQuotes(await Promise.all(contracts.map((contract) => this.quote(contract))));
    },
    async (inputs) => {
      const tickers = this.quoteContracts(inputs).map((contract) => this.ticker(contract));
      return this.liveForms.start(
        "quotes",
        quotesView,
        () => tickers.map((t) => t.quote),
        (changed) => {
          for (const t of tickers) t.on("update", changed);
          return () => {
            for (const t of tickers) t.stop();
          };
        },
      );
    },
  );

  /** Checks every input before the first request goes out. */
  private quoteContracts(inputs: readonly ContractInput[]): Contract[] {
    if (!Array.isArray(inputs)) {
      throw new InvalidArgumentError(
        "quotes",
        `expects a list, got ${describe(inputs)}`,
        'Pass ["AAPL", "MSFT"].',
      );
    }
    return inputs.map((input, i) => toContract(input, `quotes[${i}]`));
  }

  /** A streaming quote that updates in place; `ticker.stop()` frees its market-data line. */
  ticker(input: ContractInput): Ticker {
    const contract = toContract(input);
    const api = this.api();
    if (this.tickers.size >= this.marketDataLines) throw new MarketDataLinesError(this.marketDataLines);
    this.use("marketData");
    const ticker = new Ticker(contract, (t) => {
      const reqId = this.tickers.get(t);
      this.tickers.delete(t);
      if (reqId !== undefined) {
        try {
          this.api().cancelMktData(reqId);
        } catch {
          // Not connected: the subscription died with the connection.
        }
      }
    });
    const reqId = this.router.allocate();
    this.tickers.set(ticker, reqId);
    this.router.onRequestError(reqId, (error) => {
      this.emit("warning", error);
      if (error.code === 200 || error.code === 101) ticker.stop();
    });
    api.reqMktData(reqId, contract, "", false, false);
    return ticker;
  }

  /** Streaming tickers in use. */
  get activeTickers(): Ticker[] {
    return [...this.tickers.keys()];
  }

  /** Historical bars; waits as IB's pacing rules require rather than getting refused. */
  async bars(input: ContractInput, options: BarsOptions = {}): Promise<Bar[] & Displayable> {
    const contract = toContract(input);
    const duration = options.duration ?? "1 M";
    const barSize = options.barSize ?? "1 day";
    const what = options.what ?? (contract.secType === "CASH" ? "MIDPOINT" : "TRADES");
    const useRTH = options.useRTH ?? true;
    const endMs = options.end === undefined ? undefined : toEndMs(options.end);
    const plan = planHistory(duration, barSize, endMs, Date.now());
    const label = `${contractLabel(contract)} ${barSize} bars`;
    // A long download is several requests, paced as IB requires: show how far it got.
    const progress = plan.length > 1 ? newLiveDisplay({ minIntervalMs: 500 }) : undefined;
    const byTime = new Map<number, Bar>();
    try {
      for (const [i, request] of plan.entries()) {
        const status = `${label}: request ${i + 1} of ${plan.length}, ${byTime.size.toLocaleString("en-US")} bars so far`;
        progress?.update({ "text/plain": status });
        options.onProgress?.({ done: i, total: plan.length, bars: byTime.size });
        for (const bar of await this.barsRequest(contract, request, barSize, what, useRTH)) {
          byTime.set(bar.time.getTime(), bar);
        }
      }
    } finally {
      progress?.update({
        "text/plain": `${label}: ${plan.length} requests, ${byTime.size.toLocaleString("en-US")} bars`,
      });
      progress?.close();
    }
    options.onProgress?.({ done: plan.length, total: plan.length, bars: byTime.size });
    const bars = [...byTime.values()].sort((a, b) => a.time.getTime() - b.time.getTime());
    return asBars(bars, { symbol: contractLabel(contract), barSize });
  }

  /** One reqHistoricalData, after waiting as IB's pacing rules require. */
  private async barsRequest(
    contract: Contract,
    request: HistoryRequest,
    barSize: string,
    what: string,
    useRTH: boolean,
  ): Promise<Bar[]> {
    const end = request.endMs === undefined ? "" : formatUtc(new Date(request.endMs));
    const key = [contractLabel(contract), end, request.duration, barSize, what, useRTH].join("|");
    this.pacer ??= new HistoricalPacer();
    await this.pacer.wait(key, contractLabel(contract), this.closingController().signal);
    const api = this.api();
    const bars: Bar[] = [];
    await exchange<void>(
      this.router,
      api,
      `bars ${contractLabel(contract)}`,
      60_000,
      (reqId, done) => {
        const off = listen(
          api,
          EventName.historicalData,
          (
            id: number,
            time: string,
            open: number,
            high: number,
            low: number,
            close: number,
            volume: number,
            count: number,
            wap: number,
          ) => {
            if (id !== reqId) return;
            if (time.startsWith("finished")) return done();
            bars.push({ time: parseBarTime(time), open, high, low, close, volume, wap, count });
          },
        );
        api.reqHistoricalData(
          reqId,
          contract,
          end,
          request.duration,
          barSize as never,
          what as never,
          useRTH ? 1 : 0,
          2,
          false,
        );
        return off;
      },
      { contract: `"${contractLabel(contract)}"` },
    );
    return bars;
  }
}

/** A query that can also show its result live: `ib.positions()` and `ib.positions.live()`. */
export type LiveQuery<A extends unknown[], R> = ((...args: A) => Promise<R>) & {
  /** Shows the result in a cell output that updates in place; resolves with a handle to stop it. */
  live(...args: A): Promise<LiveForm>;
};

function liveQuery<A extends unknown[], R>(
  query: (...args: A) => Promise<R>,
  live: (...args: A) => Promise<LiveForm>,
): LiveQuery<A, R> {
  return Object.assign(query, { live });
}

/** What a session's listeners feed: parts of the broker state, tickers' quotes, P&L subscriptions. */
type Feed = BrokerFeed | "marketData" | "pnl";

/** The standing downloads of a connection: positions; this client's orders and today's fills. */
interface StandingDownloads {
  positions: boolean;
  orders: boolean;
}

/** One wait for an open-orders listing: its openOrderEnd, TWS's Read-Only refusal, or the session's end. */
interface OpenOrdersWaiter {
  done(): void;
  refused(error: ReadOnlyApiError): void;
  failed(error: IbkrError): void;
}

/**
 * Connects without the notebook's connection card and feed: for monitor(), which publishes a feed of
 * its own (with connect()'s as well, a monitor kernel sent every change twice).
 */
export function connectHeadless(options: ConnectOptions = {}): Promise<IB> {
  return new IB(resolveOptions(options)).open();
}

/** Connects to TWS / IB Gateway and resolves once it is ready. */
export async function connect(options: ConnectOptions = {}): Promise<IB> {
  const ib = await connectHeadless(options);
  if (isTslab()) {
    // In a notebook, the connection card: PAPER / LIVE / OFFLINE, kept current as the state changes.
    const card = showConnection(ib.state, ib.isLive);
    ib.on("state", (status) => card.update(status, ib.isLive));
    // And the feed that JupyterLab's panels read (DESIGN decision 2).
    const publish = (payload: FeedPayload) => publishHidden(FEED_MIME_TYPE, payload);
    const feed = new StateFeed(ib, publish, { maxPerSecond: ib.options.feedMaxPerSecond }).start();
    ib.once("closed", () => feed.stop());
  }
  return ib;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new RequestTimeoutError(what, ms)), ms);
    timer.unref();
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * Rows by account, then symbol: in code-unit order, not localeCompare's, which is eight times slower
 * (ICU) and orders account ids and tickers (ASCII, upper case) no differently.
 */
function byAccountThenSymbol(
  a: { account: string; symbol: string; localSymbol: string },
  b: typeof a,
): number {
  return (
    compareText(a.account, b.account) ||
    compareText(a.symbol, b.symbol) ||
    compareText(a.localSymbol, b.localSymbol)
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toContractInfo(d: ContractDetails): ContractInfo {
  const c = d.contract;
  return {
    conId: c.conId ?? 0,
    symbol: c.symbol ?? "",
    secType: String(c.secType ?? ""),
    localSymbol: c.localSymbol ?? "",
    exchange: c.exchange ?? "",
    primaryExchange: c.primaryExch ?? "",
    currency: c.currency ?? "",
    longName: d.longName ?? "",
    minTick: d.minTick ?? 0,
    multiplier: c.multiplier === undefined ? "" : String(c.multiplier),
    contract: c,
    details: d,
  };
}

function pendingRecord(trade: Trade): OrderRecord {
  return {
    orderId: trade.orderId,
    clientId: trade.clientId,
    permId: trade.permId,
    account: trade.order.account ?? "",
    symbol: trade.contract.symbol ?? "",
    secType: String(trade.contract.secType ?? ""),
    action: trade.order.action as "BUY" | "SELL",
    quantity: trade.order.totalQuantity ?? 0,
    orderType: String(trade.order.orderType ?? ""),
    lmtPrice: trade.order.lmtPrice,
    auxPrice: trade.order.auxPrice,
    tif: String(trade.order.tif ?? ""),
    status: trade.status,
    filled: trade.filled,
    remaining: trade.remaining,
    avgFillPrice: trade.avgFillPrice,
    lastFillPrice: 0,
    whyHeld: "",
    updatedAt: new Date(),
    contract: trade.contract,
  };
}

function num(text: string | number | undefined): number | undefined {
  if (text === undefined || text === "") return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** "yyyyMMdd HH:mm:ss UTC" for an end time: explicit about the zone, as IB asks. */
function formatUtc(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())} ${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} UTC`;
}

/** An end time as a Date or IB's "yyyyMMdd HH:mm:ss" (read as UTC), in epoch ms. */
function toEndMs(end: string | Date): number {
  const ms = end instanceof Date ? end.getTime() : parseBarTime(end).getTime();
  if (!Number.isFinite(ms)) {
    throw new InvalidArgumentError(
      "end",
      `${describe(end)} is not a time`,
      'Pass a Date or "yyyyMMdd HH:mm:ss" (UTC).',
    );
  }
  return ms;
}

/** Bars come as epoch seconds (formatDate 2) for intraday sizes and "yyyyMMdd" for daily ones. */
export function parseBarTime(text: string): Date {
  if (/^\d{9,}$/.test(text)) return new Date(Number(text) * 1000);
  const m = /^(\d{4})(\d{2})(\d{2})(?:\s+(\d{2}):(\d{2}):(\d{2}))?/.exec(text);
  if (!m) return new Date(Number.NaN);
  return new Date(
    Date.UTC(
      Number(m[1]),
      Number(m[2]) - 1,
      Number(m[3]),
      Number(m[4] ?? 0),
      Number(m[5] ?? 0),
      Number(m[6] ?? 0),
    ),
  );
}

export { IbkrError };
