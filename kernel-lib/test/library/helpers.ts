/**
 * Shared pieces of the library's end-to-end tests: an in-process simulator on a free loopback port
 * with its clock stopped, connections that are closed after each test, a log of every request the
 * simulator received (across sessions, so across reconnects), and small waiting helpers.
 */
import { createServer } from "node:net";
import type { ConnectionStatus } from "../../src/connection/connection";
import type { ConnectOptions } from "../../src/connection/options";
import { connect, type IB } from "../../src/ib";
import {
  parseScenario,
  type Scenario,
  type SimulatorOptions,
  TwsSimulator,
  Universe,
} from "../../src/simulator";
import { decodeFields, encodeFrame, FrameReader } from "../../src/simulator/protocol";
import type { ClientRequest } from "../../src/simulator/protocol/messages";
import type { ClientSession } from "../../src/simulator/server/session";

/** AAPL's conId: the contract-details request `flush` makes. */
export const FLUSH_CONID = 265598;

export interface LoggedRequest {
  /** The simulator's connection number (a new one per socket, so per reconnect). */
  connection: number;
  clientId: number | undefined;
  request: ClientRequest;
  /** performance.now() when the simulator decoded it. */
  at: number;
}

/** A simulator, the library connections made to it, and every request it received. */
export class Harness {
  sim!: TwsSimulator;
  readonly requests: LoggedRequest[] = [];
  /** Sockets the simulator accepted. */
  connections = 0;
  private readonly opened: IB[] = [];
  private readonly cleanups: Array<() => void> = [];

  async start(options: SimulatorOptions = {}): Promise<TwsSimulator> {
    this.requests.length = 0;
    this.connections = 0;
    this.sim = await TwsSimulator.start({
      port: 0,
      tickIntervalMs: 0,
      accountUpdateIntervalMs: 0,
      pnlIntervalMs: 0,
      ...options,
    });
    this.sim.on("request", (session: { connection: number; clientId: number | undefined }, request) =>
      this.requests.push({
        connection: session.connection,
        clientId: session.clientId,
        request,
        at: performance.now(),
      }),
    );
    this.sim.on("connection", () => this.connections++);
    return this.sim;
  }

  /** connect() to the simulator; closed after the test. */
  async connect(options: ConnectOptions = {}): Promise<IB> {
    const ib = await connect({ port: this.sim.port, timeoutMs: 2000, ...options });
    this.opened.push(ib);
    return ib;
  }

  /** Registers an IB (made another way) to be closed after the test. */
  track(ib: IB): IB {
    this.opened.push(ib);
    return ib;
  }

  onCleanup(fn: () => void): void {
    this.cleanups.push(fn);
  }

  /** Requests of one type the simulator received, from one client id (every session). */
  sent<T extends ClientRequest["type"]>(
    type: T,
    clientId?: number,
  ): Array<Extract<ClientRequest, { type: T }>> {
    return this.requests
      .filter((r) => r.request.type === type && (clientId === undefined || r.clientId === clientId))
      .map((r) => r.request as Extract<ClientRequest, { type: T }>);
  }

  /**
   * Waits until everything `ib` sent so far has reached the simulator: @stoqey/ib paces outgoing
   * messages, so "nothing was sent" is only known after a later request made the round trip.
   */
  async flush(ib: IB): Promise<void> {
    await ib.contract({ conId: FLUSH_CONID });
  }

  async stop(): Promise<void> {
    for (const ib of this.opened.splice(0)) ib.close("test over");
    for (const fn of this.cleanups.splice(0)) fn();
    await this.sim?.close();
  }
}

/** A scenario from JSON, checked by the simulator's own parser. */
export function scenario(json: unknown): Scenario {
  return parseScenario(json, new Universe());
}

/** Records an IB's state changes, with reasons and times. */
export function recordStates(ib: IB): Array<ConnectionStatus & { at: number }> {
  const states: Array<ConnectionStatus & { at: number }> = [];
  ib.on("state", (s) => states.push({ ...s, at: performance.now() }));
  return states;
}

/** Waits until `condition` holds, polling; fails with `what` after `timeoutMs`. */
/** Polls `condition`; `what` may be a function, to describe the state at the moment it fails. */
export async function until(
  condition: () => boolean,
  timeoutMs = 3000,
  what: string | (() => string) = "condition",
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`,
      );
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A loopback port nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Settles within `ms`: "pending" if it did not. */
export async function settledWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<
  { status: "fulfilled"; value: T } | { status: "rejected"; reason: unknown } | { status: "pending" }
> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<{ status: "pending" }>((resolve) => {
    timer = setTimeout(() => resolve({ status: "pending" }), ms);
  });
  const settled = promise.then(
    (value) => ({ status: "fulfilled" as const, value }),
    (reason: unknown) => ({ status: "rejected" as const, reason }),
  );
  const result = await Promise.race([settled, pending]);
  clearTimeout(timer);
  return result;
}

/** The rejection of a promise (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, but the promise resolved");
}

/** The error a function throws (fails the test if it does not). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw, but the call returned");
}

/**
 * Takes over what the simulator writes to one session, frame by frame: `route` gets each frame
 * (length prefix included) with its message id, and the socket's own write to send it with, now or
 * later. For faults of order and timing a real TWS can show.
 */
export function routeFrames(
  session: ClientSession,
  route: (id: string, frame: Buffer, write: (bytes: Buffer) => void) => void,
): void {
  const socket = session.socket as unknown as { write: (bytes: Buffer) => boolean };
  const write = socket.write.bind(socket);
  const send = (bytes: Buffer) => void write(bytes);
  socket.write = (bytes: Buffer) => {
    for (const payload of new FrameReader().push(bytes)) {
      const fields = decodeFields(payload);
      route(fields[0] ?? "", encodeFrame(fields), send);
    }
    return true;
  };
}
