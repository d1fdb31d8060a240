/**
 * Request ids and the routing of TWS errors to the request or order they belong to. Request ids
 * come from a range far above order ids, so an order error can never be mistaken for a failed
 * request (IBApiNext routes by id alone and kills unrelated subscriptions that way).
 */
import { EventName, type IBApi } from "@stoqey/ib";
import {
  fromIbError,
  type IbkrError,
  isNotice,
  NoSecurityDefinitionError,
  RequestTimeoutError,
} from "./errors";

/** First request id; order ids (from nextValidId) stay far below it in practice. */
const REQUEST_ID_BASE = 1_000_000_000;

export type ErrorHandler = (error: IbkrError) => void;

export class RequestRouter {
  private nextReqId = REQUEST_ID_BASE;
  private readonly requests = new Map<number, ErrorHandler>();
  /** Several parties may wait on one order (its placement, a cancel): each hears its errors. */
  private readonly orders = new Map<number, Set<ErrorHandler>>();

  allocate(): number {
    this.nextReqId += 1;
    return this.nextReqId;
  }

  /** Routes errors for `reqId` to `handler` until the returned function is called. */
  onRequestError(reqId: number, handler: ErrorHandler): () => void {
    this.requests.set(reqId, handler);
    return () => {
      if (this.requests.get(reqId) === handler) this.requests.delete(reqId);
    };
  }

  /** Routes errors for `orderId` to `handler` (besides any other handler) until the returned function is called. */
  onOrderError(orderId: number, handler: ErrorHandler): () => void {
    const handlers = this.orders.get(orderId) ?? new Set<ErrorHandler>();
    handlers.add(handler);
    this.orders.set(orderId, handlers);
    return () => {
      handlers.delete(handler);
      if (handlers.size === 0 && this.orders.get(orderId) === handlers) this.orders.delete(orderId);
    };
  }

  /** Order ids someone still waits on (for tests: nothing should linger once orders are done). */
  get watchedOrders(): number[] {
    return [...this.orders.keys()];
  }

  /** Listens to a session's errors; returns the function that stops listening. */
  attach(api: IBApi, unrouted: (error: IbkrError) => void): () => void {
    const listener = (error: Error, code: number, reqId: number) => {
      if (reqId === undefined || reqId < 0) return; // connection-level: the Connection handles those
      const message = error?.message ?? String(error);
      const ibError = fromIbError(code, message, reqId);
      // A warning about a request or order (IB: "Warning: …") informs; it does not fail anything.
      if (isNotice(code) || /Warning:/i.test(message)) {
        unrouted(ibError);
        return;
      }
      const request = this.requests.get(reqId);
      const orderHandlers = this.orders.get(reqId);
      if (request) request(ibError);
      else if (orderHandlers && orderHandlers.size > 0)
        for (const handler of [...orderHandlers]) handler(ibError);
      else unrouted(ibError);
    };
    api.on(EventName.error, listener);
    return () => api.off(EventName.error, listener);
  }
}

/**
 * Runs one request/response exchange: `start` sends the request and wires listeners, calling
 * `done` with the result or `fail` with an error; errors TWS sends for the request id fail it too.
 * Listeners are removed however it ends.
 */
export function exchange<T>(
  router: RequestRouter,
  api: IBApi,
  what: string,
  timeoutMs: number,
  start: (reqId: number, done: (value: T) => void, fail: (error: Error) => void) => () => void,
  options: { contract?: string } = {},
): Promise<T> {
  const reqId = router.allocate();
  return new Promise<T>((resolve, reject) => {
    let cleanup: () => void = () => {};
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      offError();
      offDisconnect();
      cleanup();
      action();
    };
    const done = (value: T) => settle(() => resolve(value));
    const fail = (error: Error) => settle(() => reject(error));
    const timer = setTimeout(() => fail(new RequestTimeoutError(what, timeoutMs)), timeoutMs);
    timer.unref();
    // "No security definition" (200) for a request about one contract names that contract.
    const offError = router.onRequestError(reqId, (error) =>
      fail(
        error.code === 200 && options.contract
          ? new NoSecurityDefinitionError(options.contract, reqId)
          : error,
      ),
    );
    const onDisconnect = () => fail(new RequestTimeoutError(`${what} (the connection dropped)`, 0));
    api.once(EventName.disconnected, onDisconnect);
    const offDisconnect = () => api.off(EventName.disconnected, onDisconnect);
    cleanup = start(reqId, done, fail);
  });
}
