/**
 * A trade: one order this connection placed, its live status and every fill. The library updates it
 * from the broker state; after a reconnect the open-order and execution downloads bring it up to
 * date, and a fill seen twice is counted once.
 */
import { EventEmitter } from "node:events";
import type { Contract, Order } from "@stoqey/ib";
import type { IbkrError } from "../errors";
import { DONE_STATUSES, type Fill, type OrderRecord } from "../state/types";

export interface TradeEvents {
  status: [Trade];
  fill: [Fill];
  done: [Trade];
}

export interface TradeLogEntry {
  time: Date;
  status: string;
  message: string;
}

export class Trade extends EventEmitter<TradeEvents> {
  status = "PendingSubmit";
  filled = 0;
  remaining: number;
  avgFillPrice = 0;
  permId = 0;
  /** Fills by execId, in arrival order. */
  private readonly fillsById = new Map<string, Fill>();
  readonly log: TradeLogEntry[] = [];
  /** Why TWS refused or cancelled the order, when it did. */
  error: IbkrError | undefined;

  constructor(
    readonly orderId: number,
    readonly clientId: number,
    readonly contract: Contract,
    readonly order: Order,
  ) {
    super();
    this.remaining = order.totalQuantity ?? 0;
    this.note("PendingSubmit", "sent");
  }

  get fills(): Fill[] {
    return [...this.fillsById.values()];
  }

  get isDone(): boolean {
    return DONE_STATUSES.has(this.status);
  }

  private note(status: string, message: string): void {
    this.log.push({ time: new Date(), status, message });
  }

  /** Applies an order update from the broker state. */
  update(record: OrderRecord): void {
    const changed =
      record.status !== this.status || record.filled !== this.filled || record.remaining !== this.remaining;
    const wasDone = this.isDone;
    this.status = record.status;
    this.filled = record.filled;
    this.remaining = record.remaining;
    this.avgFillPrice = record.avgFillPrice;
    this.permId = record.permId || this.permId;
    if (!changed) return;
    this.note(record.status, record.filled > 0 ? `filled ${record.filled} @ ${record.avgFillPrice}` : "");
    this.emit("status", this);
    if (this.isDone && !wasDone) this.emit("done", this);
  }

  /**
   * Adds or completes a fill (the commission comes in a second message). `news: false` for a fill
   * from before this trade was taken over (the day's history): recorded, not announced.
   */
  addFill(fill: Fill, { news = true }: { news?: boolean } = {}): void {
    const known = this.fillsById.has(fill.execId);
    this.fillsById.set(fill.execId, fill);
    if (!known) {
      this.note(this.status, `fill ${fill.quantity} @ ${fill.price}`);
      if (news) this.emit("fill", fill);
    }
  }

  /** TWS refused or cancelled the order. */
  fail(error: IbkrError): void {
    this.error = error;
    this.note(this.status, `${error.code ?? ""} ${error.what}`.trim());
  }

  /** Resolves when the order is filled, cancelled or inactive. */
  done(timeoutMs?: number): Promise<Trade> {
    if (this.isDone) return Promise.resolve(this);
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.off("done", onDone);
              reject(new Error(`order ${this.orderId} is still ${this.status} after ${timeoutMs} ms`));
            }, timeoutMs);
      const onDone = () => {
        clearTimeout(timer);
        resolve(this);
      };
      this.once("done", onDone);
    });
  }
}
