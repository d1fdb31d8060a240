/**
 * The order book and matching engine: validates orders as TWS does (with IB's codes and texts),
 * matches market, limit, stop and stop-limit orders against simulated quotes, fills partially up to
 * the displayed size, and books every fill into the accounts. Orders belong to the client id that
 * placed them, as at IB; their permId is unique across clients.
 */
import type {
  CommissionReportData,
  ContractSpec,
  ExecutionData,
  OpenOrderData,
  OrderAction,
  OrderRequest,
  OrderStatusData,
  OrderStatusName,
} from "../protocol/messages";
import { type AccountBook, multiplierOf } from "./accounts";
import type { MarketModel } from "./market";
import { roundToTick } from "./market";
import type { Instrument, Universe } from "./universe";

export interface SimOrder {
  permId: number;
  orderId: number;
  clientId: number;
  account: string;
  instrument: Instrument;
  action: OrderAction;
  totalQuantity: number;
  orderType: string;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  tif: string;
  ocaGroup: string;
  orderRef: string;
  outsideRth: boolean;
  goodAfterTime: string;
  goodTillDate: string;
  transmit: boolean;
  parentId: number;
  status: OrderStatusName;
  filled: number;
  avgFillPrice: number;
  lastFillPrice: number;
  /** A stop order whose stop price was touched; it now trades as market (or limit). */
  triggered: boolean;
}

export interface Fill {
  order: SimOrder;
  execution: ExecutionData;
  commission: CommissionReportData;
}

/** An IB error code and text to send back for a request that failed. */
export interface Rejection {
  code: number;
  message: string;
}

export interface ExchangeListener {
  /** An order was accepted, changed status, or was filled in part. */
  orderChanged(order: SimOrder): void;
  /** An order was rejected or cancelled after it was accepted. */
  orderError(order: SimOrder, rejection: Rejection): void;
  filled(fill: Fill): void;
}

const ORDER_TYPES = new Set(["MKT", "LMT", "STP", "STP LMT"]);
/**
 * Bounds on what one order may ask for. Beyond them an order is rejected: they keep every amount
 * the book derives from orders (fills, cash, P&L, margin) a finite number that can go on the wire.
 */
const MAX_ORDER_QUANTITY = 1e9;
const MAX_ORDER_PRICE = 1e9;
const TIFS = new Set(["", "DAY", "GTC", "IOC", "GTD", "OPG", "FOK"]);
const DONE: ReadonlySet<OrderStatusName> = new Set(["Filled", "Cancelled", "ApiCancelled", "Inactive"]);

export function isWorking(order: SimOrder): boolean {
  return !DONE.has(order.status);
}

/** IB's tiered-ish commission schedule, simplified: per share, per contract, or FX basis points. */
export function commissionFor(instrument: Instrument, quantity: number, price: number): number {
  const contract = instrument.details.contract;
  switch (contract.secType) {
    case "STK":
      return Math.min(Math.max(1, 0.005 * quantity), 0.01 * quantity * price);
    case "OPT":
      return Math.max(1, 0.65 * quantity);
    case "FUT":
      return 0.85 * quantity;
    case "CASH":
      return Math.max(2, 0.00002 * quantity * price);
    default:
      return 1;
  }
}

export interface ExchangeOptions {
  /** Rejections per client in one minute before further orders are throttled (IB's reject throttle). */
  rejectThrottle: number;
  now: () => number;
}

export class Exchange {
  readonly orders = new Map<number, SimOrder>();
  readonly executions: Fill[] = [];
  private nextPermId = 1_800_000_000;
  private execSeq = 0;
  private nextOrderIdHint = 1;
  private readonly rejections = new Map<number, number[]>();
  private listener: ExchangeListener | undefined;

  constructor(
    private readonly universe: Universe,
    private readonly market: MarketModel,
    private readonly accounts: AccountBook,
    private readonly options: ExchangeOptions,
  ) {}

  setListener(listener: ExchangeListener): void {
    this.listener = listener;
  }

  /** The next order id TWS would hand out: above every id any client has used. */
  get nextOrderId(): number {
    return this.nextOrderIdHint;
  }

  set nextOrderId(id: number) {
    this.nextOrderIdHint = Math.max(this.nextOrderIdHint, id);
  }

  find(clientId: number, orderId: number): SimOrder | undefined {
    for (const order of this.orders.values()) {
      if (order.clientId === clientId && order.orderId === orderId) return order;
    }
    return undefined;
  }

  working(): SimOrder[] {
    return [...this.orders.values()].filter(isWorking);
  }

  private recordRejection(clientId: number): void {
    const list = this.rejections.get(clientId) ?? [];
    list.push(this.options.now());
    this.rejections.set(clientId, list);
  }

  private throttled(clientId: number): boolean {
    const cutoff = this.options.now() - 60_000;
    const list = (this.rejections.get(clientId) ?? []).filter((t) => t > cutoff);
    this.rejections.set(clientId, list);
    return list.length >= this.options.rejectThrottle;
  }

  /**
   * Checks an order as TWS would before accepting it. Returns the rejection, or the instrument and
   * normalised fields to book.
   */
  validate(
    clientId: number,
    spec: ContractSpec,
    request: OrderRequest,
  ):
    | Rejection
    | { instrument: Instrument; account: string; action: OrderAction; quantity: number; orderType: string } {
    const reject = (reason: string): Rejection => ({
      code: 201,
      message: `Order rejected - reason:${reason}`,
    });
    if (this.throttled(clientId)) {
      return reject(
        `Too many rejected orders from this client (${this.options.rejectThrottle} in the last minute); new orders are throttled. Fix the cause before sending more.`,
      );
    }
    const instrument = this.universe.resolve(spec);
    if (!instrument) return { code: 200, message: "No security definition has been found for the request" };
    const action = request.action.toUpperCase();
    if (action !== "BUY" && action !== "SELL") {
      return reject(`Invalid action "${request.action}": use BUY or SELL`);
    }
    const orderType = request.orderType.toUpperCase().replace("STPLMT", "STP LMT");
    if (!ORDER_TYPES.has(orderType)) {
      return { code: 387, message: "Unsupported order type for this exchange and security type." };
    }
    const quantity = request.totalQuantity;
    if (quantity === undefined || quantity === 0)
      return { code: 434, message: "The order size cannot be zero." };
    if (!Number.isFinite(quantity) || quantity < 0) {
      return reject(`Invalid order quantity ${quantity}: it must be a positive number`);
    }
    if (quantity > MAX_ORDER_QUANTITY) {
      return reject(`The order quantity ${quantity} exceeds the maximum of ${MAX_ORDER_QUANTITY} per order`);
    }
    const increment = instrument.details.sizeIncrement;
    if (Math.abs(quantity / increment - Math.round(quantity / increment)) > 1e-9) {
      return reject(`The order quantity ${quantity} is not a multiple of the size increment ${increment}`);
    }
    if (!TIFS.has(request.tif.toUpperCase())) return reject(`Invalid time in force "${request.tif}"`);
    const needsLimit = orderType === "LMT" || orderType === "STP LMT";
    const needsStop = orderType === "STP" || orderType === "STP LMT";
    const validPrice = (price: number | undefined) =>
      price !== undefined && price > 0 && price <= MAX_ORDER_PRICE; // false for NaN and Infinity
    if (needsLimit && !validPrice(request.lmtPrice)) {
      return reject(`A ${orderType} order needs a positive limit price up to ${MAX_ORDER_PRICE}`);
    }
    if (needsStop && !validPrice(request.auxPrice)) {
      return reject(`A ${orderType} order needs a positive stop price (auxPrice) up to ${MAX_ORDER_PRICE}`);
    }
    const tick = instrument.details.minTick;
    for (const price of [
      needsLimit ? request.lmtPrice : undefined,
      needsStop ? request.auxPrice : undefined,
    ]) {
      if (price !== undefined && Math.abs(roundToTick(price, tick) - price) > tick * 1e-6) {
        return {
          code: 110,
          message: "The price does not conform to the minimum price variation for this contract.",
        };
      }
    }
    const accounts = this.accounts.ids;
    const account =
      request.account === "" && accounts.length === 1 ? (accounts[0] as string) : request.account;
    if (account === "") return { code: 435, message: "You must specify an account." };
    if (!this.accounts.get(account)) {
      return reject(
        `Account "${request.account}" is not one of this login's accounts (${accounts.join(", ")})`,
      );
    }
    return { instrument, account, action, quantity, orderType };
  }

  /** Notes a rejection for the throttle; the session sends the error. */
  rejected(clientId: number): void {
    this.recordRejection(clientId);
  }

  /** Books an accepted order (new, or a modification of a working one) and matches it at once if it can. */
  place(
    clientId: number,
    orderId: number,
    request: OrderRequest,
    checked: {
      instrument: Instrument;
      account: string;
      action: OrderAction;
      quantity: number;
      orderType: string;
    },
  ): SimOrder {
    this.nextOrderId = orderId + 1;
    const existing = this.find(clientId, orderId);
    const order: SimOrder = existing ?? {
      permId: this.nextPermId++,
      orderId,
      clientId,
      account: checked.account,
      instrument: checked.instrument,
      action: checked.action,
      totalQuantity: checked.quantity,
      orderType: checked.orderType,
      lmtPrice: undefined,
      auxPrice: undefined,
      tif: "",
      ocaGroup: "",
      orderRef: "",
      outsideRth: false,
      goodAfterTime: "",
      goodTillDate: "",
      transmit: true,
      parentId: 0,
      status: "PendingSubmit",
      filled: 0,
      avgFillPrice: 0,
      lastFillPrice: 0,
      triggered: false,
    };
    Object.assign(order, {
      totalQuantity: checked.quantity,
      orderType: checked.orderType,
      lmtPrice: checked.orderType === "MKT" || checked.orderType === "STP" ? undefined : request.lmtPrice,
      auxPrice: checked.orderType.startsWith("STP") ? request.auxPrice : undefined,
      tif: request.tif.toUpperCase() || "DAY",
      ocaGroup: request.ocaGroup,
      orderRef: request.orderRef,
      outsideRth: request.outsideRth,
      goodAfterTime: request.goodAfterTime,
      goodTillDate: request.goodTillDate,
      transmit: request.transmit,
      parentId: request.parentId,
    });
    // Held (not transmitted) orders sit in PreSubmitted, as in TWS; transmitted ones work as Submitted.
    order.status =
      !order.transmit || (order.orderType.startsWith("STP") && !order.triggered)
        ? "PreSubmitted"
        : "Submitted";
    this.orders.set(order.permId, order);
    this.listener?.orderChanged(order);
    this.match(order);
    return order;
  }

  /** A whatIf preview: margin and commission, nothing booked. */
  preview(
    clientId: number,
    orderId: number,
    request: OrderRequest,
    checked: {
      instrument: Instrument;
      account: string;
      action: OrderAction;
      quantity: number;
      orderType: string;
    },
  ): OpenOrderData {
    const quote = this.market.quote(checked.instrument.details.contract.conId);
    const price = request.lmtPrice ?? quote.last;
    const notional = this.accounts.toUsd(
      checked.quantity * price * multiplierOf(checked.instrument.details.contract),
      checked.instrument.details.contract.currency,
    );
    const account = this.accounts.get(checked.account);
    const values = account ? this.accounts.values(account) : undefined;
    const initChange = notional * 0.25;
    const commission = commissionFor(checked.instrument, checked.quantity, price);
    const order: SimOrder = {
      permId: 0,
      orderId,
      clientId,
      account: checked.account,
      instrument: checked.instrument,
      action: checked.action,
      totalQuantity: checked.quantity,
      orderType: checked.orderType,
      lmtPrice: request.lmtPrice,
      auxPrice: request.auxPrice,
      tif: request.tif || "DAY",
      ocaGroup: "",
      orderRef: request.orderRef,
      outsideRth: request.outsideRth,
      goodAfterTime: "",
      goodTillDate: "",
      transmit: true,
      parentId: 0,
      status: "PreSubmitted",
      filled: 0,
      avgFillPrice: 0,
      lastFillPrice: 0,
      triggered: false,
    };
    const data = openOrderData(order);
    data.whatIf = true;
    data.state = {
      initMarginChange: initChange.toFixed(2),
      maintMarginChange: initChange.toFixed(2),
      equityWithLoanChange: (-commission).toFixed(2),
      initMarginAfter: ((values?.initMargin ?? 0) + initChange).toFixed(2),
      maintMarginAfter: ((values?.maintMargin ?? 0) + initChange).toFixed(2),
      equityWithLoanAfter: ((values?.netLiquidation ?? 0) - commission).toFixed(2),
      commission,
      minCommission: commission,
      maxCommission: commission,
      commissionCurrency: "USD",
      warningText: "",
    };
    return data;
  }

  /** Cancels a working order of this client; returns the rejection when it cannot. */
  cancel(clientId: number, orderId: number): Rejection | undefined {
    const order = this.find(clientId, orderId);
    if (!order)
      return { code: 10147, message: `OrderId ${orderId} that needs to be cancelled is not found.` };
    if (!isWorking(order)) {
      return {
        code: 10148,
        message: `OrderId ${orderId} that needs to be cancelled cannot be cancelled, state: ${order.status}.`,
      };
    }
    this.finish(order, "Cancelled", { code: 202, message: "Order Canceled - reason:" });
    return undefined;
  }

  /** reqGlobalCancel: every working order of every client, and manual ones. */
  cancelAll(): void {
    for (const order of this.working())
      this.finish(order, "Cancelled", { code: 202, message: "Order Canceled - reason:" });
  }

  /** Ends an order's life with a status and the error TWS sends with it. */
  finish(order: SimOrder, status: OrderStatusName, notice?: Rejection): void {
    order.status = status;
    if (notice) this.listener?.orderError(order, notice);
    this.listener?.orderChanged(order);
  }

  /** Rejects a working order after acceptance (control API): Inactive with a 201. */
  reject(order: SimOrder, reason: string): void {
    this.finish(order, "Inactive", { code: 201, message: `Order rejected - reason:${reason}` });
  }

  /** Runs the matching engine over every working order, after prices moved. */
  matchAll(): void {
    for (const order of this.orders.values()) if (isWorking(order)) this.match(order);
  }

  /** The price at which this order can trade now, or undefined. Stops trigger on the last price. */
  private executablePrice(order: SimOrder): number | undefined {
    const quote = this.market.quote(order.instrument.details.contract.conId);
    const buy = order.action === "BUY";
    if (order.orderType.startsWith("STP") && !order.triggered) {
      const stop = order.auxPrice as number;
      if ((buy && quote.last >= stop) || (!buy && quote.last <= stop)) {
        order.triggered = true;
        order.status = "Submitted";
      } else {
        return undefined;
      }
    }
    const touch = buy ? quote.ask : quote.bid;
    if (order.orderType === "MKT" || order.orderType === "STP") return touch;
    const limit = order.lmtPrice as number;
    if (buy ? touch <= limit : touch >= limit) return touch;
    return undefined;
  }

  private match(order: SimOrder): void {
    if (!order.transmit || !isWorking(order)) return;
    const price = this.executablePrice(order);
    if (price === undefined) return;
    const quote = this.market.quote(order.instrument.details.contract.conId);
    const available = order.action === "BUY" ? quote.askSize : quote.bidSize;
    const remaining = order.totalQuantity - order.filled;
    this.fill(order, Math.min(remaining, available), price);
  }

  /** Executes `quantity` of an order at `price`: books it, reports it, finishes it when complete. */
  fill(order: SimOrder, quantity: number, price: number): Fill {
    const remaining = order.totalQuantity - order.filled;
    const qty = Math.min(quantity, remaining);
    const commission = commissionFor(order.instrument, qty, price);
    const realized = this.accounts.applyFill(
      order.account,
      order.instrument,
      order.action,
      qty,
      price,
      commission,
    );
    order.avgFillPrice = (order.avgFillPrice * order.filled + price * qty) / (order.filled + qty);
    order.filled = roundQty(order.filled + qty);
    order.lastFillPrice = price;
    if (order.filled >= order.totalQuantity) order.status = "Filled";
    else order.status = "Submitted";
    const execId = this.nextExecId();
    const contract = order.instrument.details.contract;
    const fill: Fill = {
      order,
      execution: {
        orderId: order.orderId,
        contract: {
          ...contract,
          exchange: contract.exchange === "SMART" ? contract.primaryExchange || "ISLAND" : contract.exchange,
        },
        execId,
        time: formatExecTime(this.options.now()),
        account: order.account,
        exchange: contract.exchange === "SMART" ? contract.primaryExchange || "ISLAND" : contract.exchange,
        side: order.action === "BUY" ? "BOT" : "SLD",
        shares: qty,
        price,
        permId: order.permId,
        clientId: order.clientId,
        liquidation: 0,
        cumQty: order.filled,
        avgPrice: order.avgFillPrice,
        orderRef: order.orderRef,
        lastLiquidity: 2,
      },
      commission: {
        execId,
        commission: Math.round(commission * 100) / 100,
        currency: "USD",
        realizedPnl: realized === undefined ? undefined : Math.round(realized * 100) / 100,
      },
    };
    this.executions.push(fill);
    this.listener?.filled(fill);
    this.listener?.orderChanged(order);
    return fill;
  }

  private nextExecId(): string {
    this.execSeq += 1;
    const day = Math.floor(this.options.now() / 86_400_000)
      .toString(16)
      .padStart(8, "0");
    return `0000${day.slice(-4)}.${this.execSeq.toString(16).padStart(8, "0")}.01.01`;
  }
}

export function openOrderData(order: SimOrder): OpenOrderData {
  return {
    orderId: order.orderId,
    clientId: order.clientId,
    permId: order.permId,
    parentId: order.parentId,
    contract: order.instrument.details.contract,
    action: order.action,
    totalQuantity: order.totalQuantity,
    orderType: order.orderType,
    lmtPrice: order.lmtPrice,
    auxPrice: order.auxPrice,
    tif: order.tif,
    ocaGroup: order.ocaGroup,
    account: order.account,
    orderRef: order.orderRef,
    outsideRth: order.outsideRth,
    goodAfterTime: order.goodAfterTime,
    goodTillDate: order.goodTillDate,
    whatIf: false,
    status: order.status,
    state: {},
  };
}

export function orderStatusData(order: SimOrder): OrderStatusData {
  return {
    orderId: order.orderId,
    status: order.status,
    filled: order.filled,
    remaining:
      isWorking(order) || order.status === "Filled" ? roundQty(order.totalQuantity - order.filled) : 0,
    avgFillPrice: order.avgFillPrice,
    permId: order.permId,
    parentId: order.parentId,
    lastFillPrice: order.lastFillPrice,
    clientId: order.clientId,
    whyHeld: "",
    mktCapPrice: 0,
  };
}

function roundQty(n: number): number {
  return Math.round(n * 1e8) / 1e8;
}

/** TWS's execution time: "YYYYMMDD  HH:mm:ss" (two spaces), UTC here. */
export function formatExecTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}  ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
