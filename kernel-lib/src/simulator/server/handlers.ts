/**
 * What each request does: the replies TWS sends, in TWS's order, with IB's error codes and texts.
 * Also the periodic pushes (market data, account updates, P&L) that subscriptions receive.
 */

import { BAR_SECONDS, DURATION_UNIT_SECONDS } from "../../util/ib-time-units";
import type { Position } from "../model/accounts";
import { isWorking, openOrderData, orderStatusData } from "../model/exchange";
import type { Quote } from "../model/market";
import type { ClientRequest } from "../protocol/messages";
import { TickType } from "../protocol/messages";
import { HistoricalPacing } from "./limits";
import type { ClientSession } from "./session";
import type { TwsSimulator } from "./simulator";
import { accountTime, barTime, parseIbTime, rangeTime } from "./time";

type Request<T extends ClientRequest["type"]> = Extract<ClientRequest, { type: T }>;

/** Per-session state that only handlers need. */
const pacing = new WeakMap<ClientSession, HistoricalPacing>();
const lastSent = new WeakMap<ClientSession, Map<number, Quote>>();
const marketDataType = new WeakMap<ClientSession, number>();

/** IB allows two account-summary subscriptions at a time. */
const MAX_ACCOUNT_SUMMARIES = 2;
/** Bars one request may return; IB answers "Time length exceed max" beyond its own limits. */
const MAX_BARS = 200_000;

/**
 * What TWS refuses while its "Read-Only API" setting is ticked, with the code TWS puts in its error
 * text: "bY" for listing orders is what users report; the codes for orders and cancels are ours
 * (clients match the text "Read-Only mode", not the code).
 */
const READ_ONLY_REFUSALS: Partial<Record<ClientRequest["type"], string>> = {
  reqOpenOrders: "bY",
  reqAllOpenOrders: "bY",
  reqAutoOpenOrders: "bY",
  reqCompletedOrders: "bY",
  placeOrder: "bN",
  cancelOrder: "bO",
  reqGlobalCancel: "bO",
};

export function handleRequest(sim: TwsSimulator, session: ClientSession, request: ClientRequest): void {
  const e = session.encoder;
  const refused = sim.readOnlyApi ? READ_ONLY_REFUSALS[request.type] : undefined;
  if (refused !== undefined) {
    // An order's refusal names the order; a listing's, no request (it has no id).
    const id = request.type === "placeOrder" || request.type === "cancelOrder" ? request.orderId : -1;
    session.sendError(
      id,
      321,
      `Error validating request:-'${refused}' : cause - The API interface is currently in Read-Only mode.`,
    );
    return;
  }
  switch (request.type) {
    case "startApi":
      if (session.clientId !== undefined) {
        session.sendError(-1, 321, "Error validating request:-'' : cause - the API is already started");
        return;
      }
      sim.admit(session, request.clientId);
      return;
    case "reqCurrentTime":
      session.send(e.currentTime(Math.floor(sim.now() / 1000)));
      return;
    case "reqManagedAccounts":
      session.send(e.managedAccounts(sim.accounts.ids));
      return;
    case "reqIds":
      session.send(e.nextValidId(sim.exchange.nextOrderId));
      return;
    case "setServerLogLevel":
      return;
    case "reqMarketDataType":
      marketDataType.set(session, request.marketDataType);
      return;
    case "reqMktData": {
      reqMktData(sim, session, request);
      return;
    }
    case "cancelMktData":
      if (!session.marketData.delete(request.reqId)) {
        session.sendError(request.reqId, 300, `Can't find EId with tickerId:${request.reqId}`);
      }
      return;
    case "placeOrder": {
      placeOrder(sim, session, request);
      return;
    }
    case "cancelOrder": {
      const rejection = sim.exchange.cancel(session.clientId as number, request.orderId);
      if (rejection) session.sendError(request.orderId, rejection.code, rejection.message);
      return;
    }
    case "reqGlobalCancel":
      sim.exchange.cancelAll();
      return;
    case "reqOpenOrders":
    case "reqAllOpenOrders": {
      const all = request.type === "reqAllOpenOrders";
      for (const order of sim.exchange.orders.values()) {
        if (!isWorking(order) || (!all && order.clientId !== session.clientId)) continue;
        session.send(e.openOrder(openOrderData(order)));
        session.send(e.orderStatus(orderStatusData(order)));
      }
      session.send(e.openOrderEnd());
      return;
    }
    case "reqAutoOpenOrders":
      if (session.clientId !== 0) {
        session.sendError(
          -1,
          321,
          "Error validating request:-'' : cause - reqAutoOpenOrders is only valid for client id 0",
        );
        return;
      }
      session.autoBind = request.autoBind;
      return;
    case "reqCompletedOrders":
      // Completed orders are not modelled yet: the list is always empty.
      session.send(e.completedOrdersEnd());
      return;
    case "reqExecutions": {
      reqExecutions(sim, session, request);
      return;
    }
    case "reqAccountUpdates": {
      if (!request.subscribe) {
        session.accountUpdates = undefined;
        return;
      }
      const account = resolveAccount(sim, request.account);
      if (!account) {
        session.sendError(
          -1,
          321,
          `Error validating request:-'' : cause - unknown account "${request.account}"`,
        );
        return;
      }
      session.accountUpdates = account;
      sendAccountUpdates(sim, session, { initial: true });
      return;
    }
    case "reqAccountUpdatesMulti": {
      const account = resolveAccount(sim, request.account);
      if (!account) {
        session.sendError(
          request.reqId,
          321,
          `Error validating request:-'' : cause - unknown account "${request.account}"`,
        );
        return;
      }
      session.accountUpdatesMulti.set(request.reqId, account);
      sendAccountMulti(sim, session, request.reqId, account);
      session.send(e.accountUpdateMultiEnd(request.reqId));
      return;
    }
    case "cancelAccountUpdatesMulti":
      session.accountUpdatesMulti.delete(request.reqId);
      return;
    case "reqAccountSummary": {
      if (session.accountSummaries.size >= MAX_ACCOUNT_SUMMARIES) {
        session.sendError(
          request.reqId,
          322,
          "Error processing request:-'' : cause - Maximum number of account summary requests exceeded",
        );
        return;
      }
      const tags = parseTags(request.tags);
      session.accountSummaries.set(request.reqId, tags);
      sendAccountSummary(sim, session, request.reqId, tags);
      session.send(e.accountSummaryEnd(request.reqId));
      return;
    }
    case "cancelAccountSummary":
      session.accountSummaries.delete(request.reqId);
      return;
    case "reqPositions":
      session.positions = true;
      for (const p of sim.accounts.allPositions()) session.send(e.position(p));
      session.send(e.positionEnd());
      return;
    case "cancelPositions":
      session.positions = false;
      return;
    case "reqPnL":
      if (!sim.accounts.get(request.account)) {
        session.sendError(
          request.reqId,
          321,
          `Error validating request:-'' : cause - unknown account "${request.account}"`,
        );
        return;
      }
      session.pnl.set(request.reqId, request.account);
      sendPnl(sim, session, request.reqId);
      return;
    case "cancelPnL":
      session.pnl.delete(request.reqId);
      return;
    case "reqPnLSingle":
      if (!sim.accounts.get(request.account) || !sim.universe.byContractId(request.conId)) {
        session.sendError(
          request.reqId,
          321,
          "Error validating request:-'' : cause - unknown account or conId",
        );
        return;
      }
      session.pnlSingle.set(request.reqId, { account: request.account, conId: request.conId });
      sendPnl(sim, session, request.reqId);
      return;
    case "cancelPnLSingle":
      session.pnlSingle.delete(request.reqId);
      return;
    case "reqContractDetails": {
      const matches = sim.universe.match(request.contract);
      if (matches.length === 0) {
        session.sendError(request.reqId, 200, "No security definition has been found for the request");
        return;
      }
      for (const m of matches) session.send(e.contractDetails(request.reqId, m.details));
      session.send(e.contractDetailsEnd(request.reqId));
      return;
    }
    case "reqHistoricalData": {
      reqHistoricalData(sim, session, request);
      return;
    }
    case "cancelHistoricalData":
      session.historicalUpdates.delete(request.reqId);
      return;
  }
}

function resolveAccount(sim: TwsSimulator, requested: string): string | undefined {
  if (requested === "" && sim.accounts.ids.length === 1) return sim.accounts.ids[0];
  return sim.accounts.get(requested) ? requested : undefined;
}

// ── market data ───────────────────────────────────────────────────────────────────────────────

function reqMktData(sim: TwsSimulator, session: ClientSession, request: Request<"reqMktData">): void {
  const { reqId } = request;
  if (session.marketData.has(reqId)) {
    session.sendError(reqId, 322, `Error processing request:-'' : cause - Duplicate ticker id ${reqId}`);
    return;
  }
  const instrument = sim.universe.resolve(request.contract);
  if (!instrument) {
    session.sendError(reqId, 200, "No security definition has been found for the request");
    return;
  }
  const snapshot = request.snapshot || request.regulatorySnapshot;
  if (!snapshot && sim.linesInUse() >= sim.marketDataLines) {
    session.sendError(
      reqId,
      101,
      `Max number of tickers has been reached (${sim.marketDataLines} market data lines)`,
    );
    return;
  }
  const conId = instrument.details.contract.conId;
  const quote = sim.market.quote(conId);
  session.send(session.encoder.marketDataType(reqId, marketDataType.get(session) ?? 1));
  sendQuote(session, reqId, quote, undefined);
  if (snapshot) {
    session.send(session.encoder.tickSnapshotEnd(reqId));
    return;
  }
  session.marketData.set(reqId, { conId, snapshot: false });
  sentQuotes(session).set(reqId, quote);
}

function sentQuotes(session: ClientSession): Map<number, Quote> {
  let map = lastSent.get(session);
  if (!map) {
    map = new Map();
    lastSent.set(session, map);
  }
  return map;
}

/**
 * The ticks for a quote, only those that changed since `before` (all of them when undefined).
 * Sizes embedded in tickPrice are also sent as tickSize, as TWS does.
 */
function sendQuote(session: ClientSession, reqId: number, q: Quote, before: Quote | undefined): void {
  const e = session.encoder;
  if (!before || q.bid !== before.bid || q.bidSize !== before.bidSize) {
    session.send(e.tickPrice(reqId, TickType.BID, q.bid, q.bidSize, 1));
    session.send(e.tickSize(reqId, TickType.BID_SIZE, q.bidSize));
  }
  if (!before || q.ask !== before.ask || q.askSize !== before.askSize) {
    session.send(e.tickPrice(reqId, TickType.ASK, q.ask, q.askSize, 1));
    session.send(e.tickSize(reqId, TickType.ASK_SIZE, q.askSize));
  }
  if (!before || q.last !== before.last || q.lastSize !== before.lastSize) {
    session.send(e.tickPrice(reqId, TickType.LAST, q.last, q.lastSize, 0));
    session.send(e.tickSize(reqId, TickType.LAST_SIZE, q.lastSize));
    session.send(e.tickString(reqId, TickType.LAST_TIMESTAMP, String(Math.floor(q.lastTime / 1000))));
  }
  if (!before || q.volume !== before.volume) session.send(e.tickSize(reqId, TickType.VOLUME, q.volume));
  if (!before || q.high !== before.high) session.send(e.tickPrice(reqId, TickType.HIGH, q.high, 0, 0));
  if (!before || q.low !== before.low) session.send(e.tickPrice(reqId, TickType.LOW, q.low, 0, 0));
  if (!before) {
    session.send(e.tickPrice(reqId, TickType.CLOSE, q.close, 0, 0));
    session.send(e.tickPrice(reqId, TickType.OPEN, q.open, 0, 0));
  }
}

/** After a market step: changed ticks to each streaming subscription, and keep-up-to-date bars. */
export function sendMarketDataStep(sim: TwsSimulator, session: ClientSession): void {
  const sent = sentQuotes(session);
  for (const [reqId, sub] of session.marketData) {
    const quote = sim.market.quote(sub.conId);
    const before = sent.get(reqId);
    if (before === quote) continue;
    sendQuote(session, reqId, quote, before);
    sent.set(reqId, quote);
  }
  for (const [reqId, sub] of session.historicalUpdates) {
    const quote = sim.market.quote(sub.conId);
    const start = Math.floor(sim.now() / 1000 / sub.barSeconds) * sub.barSeconds;
    session.send(
      session.encoder.historicalDataUpdate(reqId, {
        time: barTime(start, sub.formatDate, sub.barSeconds >= 86_400),
        open: quote.open,
        high: quote.high,
        low: quote.low,
        close: quote.last,
        volume: quote.volume,
        wap: quote.last,
        count: 1,
      }),
    );
  }
}

// ── orders ────────────────────────────────────────────────────────────────────────────────────

function placeOrder(sim: TwsSimulator, session: ClientSession, request: Request<"placeOrder">): void {
  const clientId = session.clientId as number;
  const { orderId, order } = request;
  const existing = sim.exchange.find(clientId, orderId);
  if (existing && !isWorking(existing)) {
    if (existing.status === "Filled") session.sendError(orderId, 104, "Can't modify a filled order");
    else session.sendError(orderId, 103, "Duplicate order id");
    return;
  }
  if (!existing && orderId < 1) {
    session.sendError(orderId, 103, "Duplicate order id");
    return;
  }
  const checked = sim.exchange.validate(clientId, request.contract, order);
  if ("code" in checked) {
    sim.exchange.rejected(clientId);
    session.sendError(orderId, checked.code, checked.message);
    return;
  }
  if (order.whatIf) {
    session.send(session.encoder.openOrder(sim.exchange.preview(clientId, orderId, order, checked)));
    return;
  }
  sim.exchange.place(clientId, orderId, order, checked);
}

function reqExecutions(sim: TwsSimulator, session: ClientSession, request: Request<"reqExecutions">): void {
  const f = request.filter;
  const since = f.time ? parseIbTime(f.time) : undefined;
  for (const fill of sim.exchange.executions) {
    const x = fill.execution;
    const mine = session.clientId === 0 || x.clientId === session.clientId;
    if (!mine) continue;
    if (f.clientId !== undefined && f.clientId !== 0 && x.clientId !== f.clientId) continue;
    if (f.account && f.account !== x.account) continue;
    if (f.symbol && f.symbol.toUpperCase() !== x.contract.symbol) continue;
    if (f.secType && f.secType.toUpperCase() !== x.contract.secType) continue;
    if (f.side && !sideMatches(f.side, x.side)) continue;
    if (since !== undefined && (parseIbTime(x.time) ?? 0) < since) continue;
    session.send(session.encoder.execDetails(request.reqId, x));
    session.send(session.encoder.commissionReport(fill.commission));
  }
  session.send(session.encoder.execDetailsEnd(request.reqId));
}

function sideMatches(filter: string, side: "BOT" | "SLD"): boolean {
  const f = filter.toUpperCase();
  return f === side || (f === "BUY" && side === "BOT") || (f === "SELL" && side === "SLD");
}

// ── accounts ──────────────────────────────────────────────────────────────────────────────────

function parseTags(tags: string): Set<string> | "all" {
  const list = tags
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  if (list.length === 0 || list.some((t) => t.toUpperCase() === "ALL" || t.startsWith("$LEDGER")))
    return "all";
  return new Set(list);
}

function sendAccountSummary(
  sim: TwsSimulator,
  session: ClientSession,
  reqId: number,
  tags: Set<string> | "all",
): void {
  for (const account of sim.accounts.accounts.values()) {
    for (const t of sim.accounts.tagValues(account)) {
      if (tags !== "all" && !tags.has(t.tag)) continue;
      session.send(session.encoder.accountSummary(reqId, account.id, t.tag, t.value, t.currency));
    }
  }
}

function sendAccountMulti(sim: TwsSimulator, session: ClientSession, reqId: number, accountId: string): void {
  const account = sim.accounts.get(accountId);
  if (!account) return;
  for (const t of sim.accounts.tagValues(account)) {
    session.send(session.encoder.accountUpdateMulti(reqId, account.id, "", t.tag, t.value, t.currency));
  }
}

/**
 * Account updates: values and portfolio (all on the first download, then periodically), plus the
 * multi-account and summary subscriptions. `portfolioOnly` pushes just the positions a fill moved.
 */
export function sendAccountUpdates(
  sim: TwsSimulator,
  session: ClientSession,
  options: { initial?: boolean; portfolioOnly?: Position[] },
): void {
  const e = session.encoder;
  const accountId = session.accountUpdates;
  const account = accountId ? sim.accounts.get(accountId) : undefined;
  if (account) {
    if (options.portfolioOnly) {
      for (const p of options.portfolioOnly) {
        session.send(e.portfolioValue(sim.accounts.portfolioData(account, sim.accounts.valuePosition(p))));
      }
    } else {
      for (const t of sim.accounts.tagValues(account))
        session.send(e.accountValue(t.tag, t.value, t.currency, account.id));
      session.send(e.accountValue("Currency", account.currency, account.currency, account.id));
      for (const p of account.positions.values()) {
        if (p.quantity === 0) continue;
        session.send(e.portfolioValue(sim.accounts.portfolioData(account, sim.accounts.valuePosition(p))));
      }
      session.send(e.accountUpdateTime(accountTime(sim.now())));
      if (options.initial) session.send(e.accountDownloadEnd(account.id));
    }
  }
  if (options.initial || options.portfolioOnly) return;
  for (const [reqId, id] of session.accountUpdatesMulti) sendAccountMulti(sim, session, reqId, id);
  for (const [reqId, tags] of session.accountSummaries) sendAccountSummary(sim, session, reqId, tags);
}

/** P&L pushes: every subscription, or just `onlyReqId` (the first answer to a new request). */
export function sendPnl(sim: TwsSimulator, session: ClientSession, onlyReqId?: number): void {
  const e = session.encoder;
  for (const [reqId, accountId] of session.pnl) {
    if (onlyReqId !== undefined && reqId !== onlyReqId) continue;
    const account = sim.accounts.get(accountId);
    if (!account) continue;
    const v = sim.accounts.values(account);
    session.send(e.pnl(reqId, round2(v.dailyPnl), round2(v.unrealizedPnl), round2(v.realizedPnl)));
  }
  for (const [reqId, sub] of session.pnlSingle) {
    if (onlyReqId !== undefined && reqId !== onlyReqId) continue;
    const account = sim.accounts.get(sub.account);
    const position = account?.positions.get(sub.conId);
    if (!position) {
      session.send(e.pnlSingle(reqId, 0, 0, 0, 0, 0));
      continue;
    }
    const v = sim.accounts.valuePosition(position);
    session.send(
      e.pnlSingle(
        reqId,
        position.quantity,
        round2(v.dailyPnl),
        round2(v.unrealizedPnl),
        round2(position.realizedPnl),
        round2(v.marketValue),
      ),
    );
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

// ── history ───────────────────────────────────────────────────────────────────────────────────

const WHAT_TO_SHOW = new Set([
  "TRADES",
  "MIDPOINT",
  "BID",
  "ASK",
  "BID_ASK",
  "ADJUSTED_LAST",
  "HISTORICAL_VOLATILITY",
  "OPTION_IMPLIED_VOLATILITY",
]);

function reqHistoricalData(
  sim: TwsSimulator,
  session: ClientSession,
  request: Request<"reqHistoricalData">,
): void {
  const { reqId } = request;
  const invalid = (what: string) =>
    session.sendError(reqId, 321, `Error validating request:-'bP' : cause - ${what}`);
  const barSeconds = BAR_SECONDS[request.barSize.trim()];
  if (barSeconds === undefined) {
    invalid(
      `Historical data bar size setting is invalid. Legal ones are: ${Object.keys(BAR_SECONDS).join(", ")}`,
    );
    return;
  }
  const duration = /^(\d+)\s+([SDWMY])$/i.exec(request.duration.trim());
  if (!duration) {
    invalid(`Invalid duration "${request.duration}": use "<integer> <unit>" with unit S, D, W, M or Y`);
    return;
  }
  const whatToShow = request.whatToShow.toUpperCase();
  if (!WHAT_TO_SHOW.has(whatToShow)) {
    invalid(`Invalid whatToShow "${request.whatToShow}"`);
    return;
  }
  if (request.keepUpToDate && request.endDateTime !== "") {
    invalid("keepUpToDate=true is only valid with an empty endDateTime");
    return;
  }
  const instrument = sim.universe.resolve(request.contract);
  if (!instrument) {
    session.sendError(reqId, 200, "No security definition has been found for the request");
    return;
  }
  const c = instrument.details.contract;
  if (c.secType === "CASH" && whatToShow === "TRADES") {
    session.sendError(
      reqId,
      162,
      `Historical Market Data Service error message:No historical market data for ${c.symbol}/CASH@${c.exchange} TRADES`,
    );
    return;
  }
  let sessionPacing = pacing.get(session);
  if (!sessionPacing) {
    sessionPacing = new HistoricalPacing();
    pacing.set(session, sessionPacing);
  }
  const requestKey = [
    c.conId,
    request.endDateTime,
    request.duration,
    request.barSize,
    whatToShow,
    request.useRth,
  ].join("|");
  const violation = sessionPacing.check(sim.now(), requestKey, `${c.conId}|${whatToShow}`);
  if (violation) {
    session.sendError(
      reqId,
      162,
      `Historical Market Data Service error message:Pacing violation (${violation})`,
    );
    return;
  }
  const end = request.endDateTime === "" ? sim.now() : parseIbTime(request.endDateTime);
  if (end === undefined) {
    invalid(`Invalid endDateTime "${request.endDateTime}": use "yyyyMMdd HH:mm:ss"`);
    return;
  }
  const durationSeconds =
    Number(duration[1]) * (DURATION_UNIT_SECONDS[(duration[2] as string).toUpperCase()] as number);
  const daily = barSeconds >= 86_400;
  const times = barStarts(end, durationSeconds, barSeconds);
  if (times.length > MAX_BARS) {
    session.sendError(reqId, 162, "Historical Market Data Service error message:Time length exceed max.");
    return;
  }
  if (times.length === 0) {
    session.sendError(reqId, 162, "Historical Market Data Service error message:HMDS query returned no data");
    return;
  }
  const bars = sim.market.bars(instrument, end, times.length, barSeconds, whatToShow);
  for (let i = 0; i < bars.length; i++) {
    (bars[i] as { time: string }).time = barTime(times[i] as number, request.formatDate, daily);
  }
  session.send(
    session.encoder.historicalData(reqId, rangeTime(end - durationSeconds * 1000), rangeTime(end), bars),
  );
  if (request.keepUpToDate) {
    session.historicalUpdates.set(reqId, { conId: c.conId, barSeconds, formatDate: request.formatDate });
  }
}

/** Bar start times (epoch seconds) covering `durationSeconds` before `endMs`; daily bars skip weekends. */
function barStarts(endMs: number, durationSeconds: number, barSeconds: number): number[] {
  const end = Math.floor(endMs / 1000);
  const first = end - durationSeconds;
  const times: number[] = [];
  if (barSeconds >= 86_400) {
    const day = 86_400;
    for (let t = Math.floor(first / day) * day + day; t <= end && times.length <= MAX_BARS; t += barSeconds) {
      const weekday = new Date(t * 1000).getUTCDay();
      if (barSeconds === day && (weekday === 0 || weekday === 6)) continue;
      times.push(t);
    }
    return times;
  }
  for (
    let t = Math.ceil(first / barSeconds) * barSeconds;
    t < end && times.length <= MAX_BARS;
    t += barSeconds
  ) {
    times.push(t);
  }
  return times;
}
