/**
 * One TCP write for a burst of requests. @stoqey/ib writes each request to its socket on its own; the
 * standing subscriptions the library starts when a connection is ready (positions, orders,
 * executions) cost three writes, three wake-ups of TWS and three answers read separately. On
 * loopback one write instead of three took about 0.1 ms off `connect()`'s 0.9 ms
 * (test/bench/library.mjs). Corking the socket while they are encoded sends them together; TWS
 * reads them in one go and answers in one go.
 */
import type { Socket } from "node:net";
import type { IBApi } from "@stoqey/ib";

/** IBApi's socket: an internal of @stoqey/ib 1.6.10 (`controller.socket.client`). */
function socketOf(api: IBApi): Socket | undefined {
  const internals = api as unknown as { controller?: { socket?: { client?: Partial<Socket> } } };
  const client = internals.controller?.socket?.client;
  return typeof client?.cork === "function" && typeof client.uncork === "function"
    ? (client as Socket)
    : undefined;
}

/**
 * Runs `send` (which calls IBApi request methods) with the socket corked, so that what it writes
 * goes out as one write. Without the internal (another @stoqey/ib version) the requests go out one
 * by one, as before; what is sent and in which order never changes.
 */
export function sendTogether(api: IBApi, send: () => void): void {
  const socket = socketOf(api);
  socket?.cork();
  try {
    send();
  } finally {
    socket?.uncork();
  }
}
