/**
 * Orders as a user writes them (side, quantity, limit/stop, time in force), checked field by field
 * and turned into the IB order to send. Nothing invalid leaves the library.
 */
import { type Order, OrderAction, OrderType, type TimeInForce } from "@stoqey/ib";
import { describe } from "../connection/options";
import { InvalidArgumentError } from "../errors";

export type Side = "BUY" | "SELL";
export type Tif = "DAY" | "GTC" | "IOC" | "GTD" | "OPG" | "FOK";

export interface OrderOptions {
  /** A limit price: the order becomes LMT (or STP LMT with `stop`). */
  limit?: number;
  /** A stop price: the order becomes STP (or STP LMT with `limit`). */
  stop?: number;
  /** Time in force; default DAY. */
  tif?: Tif;
  /** The account; default: the connection's account, or the only managed one. */
  account?: string;
  /** Allow execution outside regular trading hours. */
  outsideRth?: boolean;
  /** A free-text reference that travels with the order and its fills. */
  orderRef?: string;
}

export interface OrderSpec extends OrderOptions {
  side: Side;
  quantity: number;
}

const TIFS: readonly Tif[] = ["DAY", "GTC", "IOC", "GTD", "OPG", "FOK"];

function positivePrice(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(
      field,
      `must be a positive price, got ${describe(value)}`,
      `Pass a number such as ${field}: 101.25.`,
    );
  }
  return value;
}

/** Validates an order and builds the IB order (transmit always set: stoqey leaves it blank otherwise). */
export function buildOrder(spec: OrderSpec): Order {
  if (typeof spec !== "object" || spec === null) {
    throw new InvalidArgumentError(
      "order",
      `must be an object, got ${describe(spec)}`,
      'Pass { side: "BUY", quantity: 10, limit: 100 }.',
    );
  }
  const side = typeof spec.side === "string" ? spec.side.toUpperCase() : spec.side;
  if (side !== "BUY" && side !== "SELL") {
    throw new InvalidArgumentError(
      "side",
      `${describe(spec.side)} is not a side`,
      'Use "BUY" or "SELL" (or ib.buy / ib.sell).',
    );
  }
  const quantity = spec.quantity;
  if (typeof quantity !== "number" || !Number.isFinite(quantity) || quantity <= 0) {
    throw new InvalidArgumentError(
      "quantity",
      `must be a positive number, got ${describe(quantity)}`,
      "Pass the number of shares or contracts, e.g. 10; to sell, use ib.sell with a positive quantity.",
    );
  }
  const limit = spec.limit === undefined ? undefined : positivePrice("limit", spec.limit);
  const stop = spec.stop === undefined ? undefined : positivePrice("stop", spec.stop);
  const tif = spec.tif ?? "DAY";
  if (!TIFS.includes(tif)) {
    throw new InvalidArgumentError(
      "tif",
      `${describe(tif)} is not a time in force`,
      `Use one of ${TIFS.join(", ")}.`,
    );
  }
  if (spec.orderRef !== undefined && typeof spec.orderRef !== "string") {
    throw new InvalidArgumentError(
      "orderRef",
      `must be text, got ${describe(spec.orderRef)}`,
      'Pass a string such as orderRef: "rebalance-1".',
    );
  }
  const orderType =
    limit !== undefined && stop !== undefined
      ? OrderType.STP_LMT
      : limit !== undefined
        ? OrderType.LMT
        : stop !== undefined
          ? OrderType.STP
          : OrderType.MKT;
  return {
    action: side === "BUY" ? OrderAction.BUY : OrderAction.SELL,
    totalQuantity: quantity,
    orderType,
    lmtPrice: limit,
    auxPrice: stop,
    tif: tif as TimeInForce,
    account: spec.account,
    outsideRth: spec.outsideRth ?? false,
    orderRef: spec.orderRef,
    transmit: true,
  };
}
