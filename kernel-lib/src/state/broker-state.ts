/**
 * The broker state the library keeps itself (DESIGN decision 7): positions by account and conId,
 * orders by client and order id, fills by execId, account values, portfolio and P&L. It listens to
 * each session's IBApi events; a new session after a reconnect feeds the same state, and a fill
 * reported twice (live, then again by reqExecutions) is counted once.
 */
import { EventEmitter } from "node:events";
import {
  type CommissionReport,
  type Contract,
  EventName,
  type Execution,
  type IBApi,
  type Order,
  type OrderState,
} from "@stoqey/ib";
import { listen, unlisten } from "../connection/listen";
import {
  type AccountValue,
  DONE_STATUSES,
  type Fill,
  type OrderRecord,
  type OrderSide,
  type PnL,
  type PortfolioItem,
  type Position,
  type PositionPnL,
} from "./types";

export interface BrokerStateEvents {
  position: [Position];
  order: [OrderRecord];
  /** A new fill (once per execId). */
  fill: [Fill];
  /** A fill of the day's history (startHistory): recorded, not news (once per execId). */
  historyFill: [Fill];
  /** A fill's commission report arrived (the Fill object now carries it). */
  commission: [Fill];
  accountValue: [AccountValue];
  portfolio: [PortfolioItem];
  pnl: [PnL];
  positionPnl: [PositionPnL];
}

/** The parts of the state a session feeds, each attached on its own (BrokerState.attach). */
export type BrokerFeed = "positions" | "orders" | "account";

/** An order is one client's order id; manual TWS orders (id 0) are told apart by permId. */
export function orderKey(clientId: number, orderId: number, permId: number): string {
  return orderId > 0 ? `${clientId}/${orderId}` : `perm/${permId}`;
}

/** A position is one account's holding of one contract. */
export const positionKey = (account: string, conId: number | undefined) => `${account}/${conId ?? 0}`;

/** IB writes execution times as "yyyyMMdd  HH:mm:ss" (or with a zone name); read them as UTC unless zoned. */
export function parseExecutionTime(text: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})[\s-]+(\d{2}):(\d{2}):(\d{2})/.exec(text.trim());
  if (!m) return new Date(Number.NaN);
  const [, y, mo, d, h, mi, s] = m;
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
}

export class BrokerState extends EventEmitter<BrokerStateEvents> {
  readonly positions = new Map<string, Position>();
  readonly orders = new Map<string, OrderRecord>();
  readonly fills = new Map<string, Fill>();
  readonly accountValues = new Map<string, AccountValue>();
  readonly portfolio = new Map<string, PortfolioItem>();
  readonly pnl = new Map<string, PnL>();
  /** By position key (account/conId), for the positions whose P&L is subscribed. */
  readonly positionPnl = new Map<string, PositionPnL>();
  /** Commission reports that arrived before their execution (TWS sends the execution first, but not always). */
  private readonly pendingCommissions = new Map<string, CommissionReport>();
  /** Execution requests whose answers are the day's history (startHistory), and the fills they brought. */
  private readonly historyRequests = new Set<number>();
  private readonly historyFills = new WeakSet<Fill>();

  /**
   * @param placedHere whether a fill is of an order placed through this state's owner: such a fill is
   *   news whichever download brings it (its order came after the day's history began).
   */
  constructor(private readonly placedHere: (fill: Fill) => boolean = () => false) {
    super();
  }

  /**
   * Feeds one part of this state from a session's answers; returns the function that stops
   * listening. The owner attaches a part once it asks for what answers it: a connection that never
   * downloads account updates carries no listeners for them.
   */
  attach(api: IBApi, part: BrokerFeed): () => void {
    switch (part) {
      case "positions":
        return listen(
          api,
          EventName.position,
          (account: string, contract: Contract, pos: number, avgCost?: number) =>
            this.onPosition(account, contract, pos, avgCost ?? 0),
        );
      case "orders":
        return unlisten([
          listen(
            api,
            EventName.openOrder,
            (orderId: number, contract: Contract, order: Order, state: OrderState) =>
              this.onOpenOrder(orderId, contract, order, state),
          ),
          listen(
            api,
            EventName.orderStatus,
            (
              orderId: number,
              status: string,
              filled: number,
              remaining: number,
              avgFillPrice: number,
              permId?: number,
              _parentId?: number,
              lastFillPrice?: number,
              clientId?: number,
              whyHeld?: string,
            ) =>
              this.onOrderStatus({
                orderId,
                status,
                filled,
                remaining,
                avgFillPrice,
                permId: permId ?? 0,
                lastFillPrice: lastFillPrice ?? 0,
                clientId: clientId ?? 0,
                whyHeld: whyHeld ?? "",
              }),
          ),
          listen(api, EventName.execDetails, (reqId: number, contract: Contract, execution: Execution) =>
            this.onExecution(contract, execution, this.historyRequests.has(reqId)),
          ),
          listen(api, EventName.commissionReport, (report: CommissionReport) => this.onCommission(report)),
        ]);
      case "account":
        return unlisten([
          listen(
            api,
            EventName.updateAccountValue,
            (tag: string, value: string, currency: string, account: string) =>
              this.onAccountValue({ account, tag, value, currency }),
          ),
          listen(
            api,
            EventName.accountSummary,
            (_reqId: number, account: string, tag: string, value: string, currency: string) =>
              this.onAccountValue({ account, tag, value, currency }),
          ),
          listen(
            api,
            EventName.updatePortfolio,
            (
              contract: Contract,
              pos: number,
              marketPrice: number,
              marketValue: number,
              avgCost?: number,
              unrealizedPnl?: number,
              realizedPnl?: number,
              account?: string,
            ) =>
              this.onPortfolio({
                account: account ?? "",
                symbol: contract.symbol ?? "",
                secType: String(contract.secType ?? ""),
                localSymbol: contract.localSymbol ?? contract.symbol ?? "",
                currency: contract.currency ?? "",
                quantity: pos,
                marketPrice,
                marketValue,
                avgCost: avgCost ?? 0,
                unrealizedPnl: unrealizedPnl ?? 0,
                realizedPnl: realizedPnl ?? 0,
                contract,
              }),
          ),
        ]);
    }
  }

  private onPosition(account: string, contract: Contract, quantity: number, avgCost: number): void {
    const key = positionKey(account, contract.conId);
    const position: Position = {
      account,
      symbol: contract.symbol ?? "",
      secType: String(contract.secType ?? ""),
      localSymbol: contract.localSymbol ?? contract.symbol ?? "",
      currency: contract.currency ?? "",
      quantity,
      avgCost,
      contract,
    };
    if (quantity === 0) {
      this.positions.delete(key);
      this.positionPnl.delete(key);
    } else this.positions.set(key, position);
    this.emit("position", position);
  }

  /** Replaces the positions of a fresh reqPositions download (positions closed meanwhile disappear). */
  resetPositions(): void {
    this.positions.clear();
  }

  private onOpenOrder(orderId: number, contract: Contract, order: Order, state: OrderState): void {
    if (order.whatIf) return; // a preview, not an order
    const clientId = order.clientId ?? 0;
    const permId = order.permId ?? 0;
    const key = orderKey(clientId, orderId, permId);
    const previous = this.orders.get(key);
    const record: OrderRecord = {
      orderId,
      clientId,
      permId,
      account: order.account ?? previous?.account ?? "",
      symbol: contract.symbol ?? "",
      secType: String(contract.secType ?? ""),
      action: String(order.action ?? "BUY") as OrderSide,
      quantity: order.totalQuantity ?? 0,
      orderType: String(order.orderType ?? ""),
      lmtPrice: order.lmtPrice,
      auxPrice: order.auxPrice,
      tif: String(order.tif ?? ""),
      status: state.status ?? previous?.status ?? "",
      filled: previous?.filled ?? 0,
      remaining: previous?.remaining ?? order.totalQuantity ?? 0,
      avgFillPrice: previous?.avgFillPrice ?? 0,
      lastFillPrice: previous?.lastFillPrice ?? 0,
      whyHeld: previous?.whyHeld ?? "",
      updatedAt: new Date(),
      contract,
    };
    this.orders.set(key, record);
    this.emit("order", record);
  }

  private onOrderStatus(s: {
    orderId: number;
    status: string;
    filled: number;
    remaining: number;
    avgFillPrice: number;
    permId: number;
    lastFillPrice: number;
    clientId: number;
    whyHeld: string;
  }): void {
    const key = orderKey(s.clientId, s.orderId, s.permId);
    const record = this.orders.get(key);
    if (!record) return; // TWS sends openOrder first; a status without it carries too little to show
    Object.assign(record, {
      status: s.status,
      filled: s.filled,
      remaining: s.remaining,
      avgFillPrice: s.avgFillPrice,
      lastFillPrice: s.lastFillPrice,
      whyHeld: s.whyHeld,
      permId: s.permId || record.permId,
      updatedAt: new Date(),
    });
    this.emit("order", record);
  }

  /** An order that ended unseen (while disconnected): marked done with `status`, unless it already is. */
  retireOrder(key: string, status: string): void {
    const record = this.orders.get(key);
    if (!record || DONE_STATUSES.has(record.status)) return;
    record.status = status;
    record.remaining = 0;
    record.updatedAt = new Date();
    this.emit("order", record);
  }

  /**
   * The executions answering request `reqId` are the day's history, downloaded when a connection
   * starts following its fills: recorded, not announced as new fills (nor their commissions), until
   * endHistory(reqId); fills of orders placed here are announced all the same. Fills a reconnect's
   * download finds are announced: they happened while it was down.
   */
  startHistory(reqId: number): void {
    this.historyRequests.add(reqId);
  }

  endHistory(reqId: number): void {
    this.historyRequests.delete(reqId);
  }

  private onExecution(contract: Contract, e: Execution, history = false): void {
    const execId = e.execId ?? "";
    if (execId === "") return;
    const known = this.fills.get(execId);
    const fill: Fill = {
      execId,
      orderId: e.orderId ?? 0,
      permId: e.permId ?? 0,
      clientId: e.clientId ?? 0,
      account: e.acctNumber ?? "",
      symbol: contract.symbol ?? "",
      secType: String(contract.secType ?? ""),
      side: e.side === "SLD" ? "SELL" : "BUY",
      quantity: e.shares ?? 0,
      price: e.price ?? 0,
      cumQuantity: e.cumQty ?? 0,
      time: parseExecutionTime(e.time ?? ""),
      exchange: e.exchange ?? "",
      commission: known?.commission,
      commissionCurrency: known?.commissionCurrency,
      realizedPnl: known?.realizedPnl,
      contract,
    };
    const pending = this.pendingCommissions.get(execId);
    if (pending) {
      this.pendingCommissions.delete(execId);
      applyCommission(fill, pending);
    }
    this.fills.set(execId, fill);
    if (!known) {
      if (history && !this.placedHere(fill)) {
        this.historyFills.add(fill);
        this.emit("historyFill", fill);
      } else {
        this.emit("fill", fill);
        // Its commission report came first: news as well, said after the fill as it would have been.
        if (pending) this.emit("commission", fill);
      }
      this.applyExecution(fill, e.avgPrice);
    }
  }

  /**
   * Brings the order an execution belongs to up to date. Usually an orderStatus follows and says the
   * same; but an order that filled while the connection was down is no longer open after the
   * reconnect, so reqOpenOrders says nothing of it and its executions are all there is.
   */
  private applyExecution(fill: Fill, avgPrice: number | undefined): void {
    const record = this.orders.get(orderKey(fill.clientId, fill.orderId, fill.permId));
    if (!record || fill.cumQuantity <= record.filled) return;
    const before = record.filled;
    record.avgFillPrice =
      avgPrice !== undefined && avgPrice > 0
        ? avgPrice
        : (record.avgFillPrice * before + fill.price * (fill.cumQuantity - before)) / fill.cumQuantity;
    record.filled = fill.cumQuantity;
    record.remaining = Math.max(0, record.quantity - fill.cumQuantity);
    record.lastFillPrice = fill.price;
    if (record.remaining === 0) record.status = "Filled";
    record.updatedAt = new Date();
    this.emit("order", record);
  }

  private onCommission(report: CommissionReport): void {
    const execId = report.execId ?? "";
    const fill = this.fills.get(execId);
    if (!fill) {
      this.pendingCommissions.set(execId, report);
      return;
    }
    const first = fill.commission === undefined;
    applyCommission(fill, report);
    if (first && !this.historyFills.has(fill)) this.emit("commission", fill);
  }

  private onAccountValue(value: AccountValue): void {
    this.accountValues.set(`${value.account}/${value.tag}/${value.currency}`, value);
    this.emit("accountValue", value);
  }

  private onPortfolio(item: PortfolioItem): void {
    const key = positionKey(item.account, item.contract.conId);
    if (item.quantity === 0) this.portfolio.delete(key);
    else this.portfolio.set(key, item);
    this.emit("portfolio", item);
  }

  /** P&L arrives by request id; the owner maps it to the account. */
  setPnl(pnl: PnL): void {
    this.pnl.set(pnl.account, pnl);
    this.emit("pnl", pnl);
  }

  /** A position's P&L, by request id too; the owner maps it to the position it subscribed. */
  setPositionPnl(
    position: Position,
    pnl: Pick<PositionPnL, "quantity" | "dailyPnl" | "unrealizedPnl" | "realizedPnl" | "marketValue">,
  ): void {
    const { account, symbol, secType, localSymbol, currency, contract } = position;
    const row: PositionPnL = { account, symbol, secType, localSymbol, currency, ...pnl, contract };
    this.positionPnl.set(positionKey(account, contract.conId), row);
    this.emit("positionPnl", row);
  }
}

function applyCommission(fill: Fill, report: CommissionReport): void {
  fill.commission = report.commission;
  fill.commissionCurrency = report.currency;
  fill.realizedPnl = report.realizedPNL;
}
