/**
 * A real @stoqey/ib IBApi client for end-to-end tests: it records every event it receives and lets a
 * test wait for the one it expects. Decoding problems (stoqey's 505 "Decoding error"/"Underrun") are
 * collected so every test can assert the simulator spoke the protocol exactly.
 */
import { type Contract, EventName, IBApi, SecType } from "@stoqey/ib";
import type { TwsSimulator } from "../../src/simulator";

export interface IbError {
  code: number;
  reqId: number;
  message: string;
}

type Listener = { name: string; test: (args: unknown[]) => boolean; resolve: (args: unknown[]) => void };

export class RecordingClient {
  readonly api: IBApi;
  /** Every event as [name, args], in arrival order. */
  readonly events: Array<[string, unknown[]]> = [];
  /** Errors with a request id, and notices with id -1 (stoqey's `info`), in arrival order. */
  readonly errors: IbError[] = [];
  nextValidId = 0;
  private waiting: Listener[] = [];

  constructor(
    readonly port: number,
    readonly clientId: number,
  ) {
    this.api = new IBApi({ host: "127.0.0.1", port });
    // IBApi's typed `on` has one overload per event; listen to all of them through the plain emitter.
    const emitter = this.api as unknown as { on(name: string, listener: (...args: unknown[]) => void): void };
    for (const name of Object.values(EventName)) {
      if (name === EventName.all) continue;
      emitter.on(name, (...args: unknown[]) => this.record(name, args));
    }
  }

  /** Connects and resolves once nextValidId arrived (the client is ready). */
  static async connect(sim: TwsSimulator | number, clientId = 2, timeoutMs = 3000): Promise<RecordingClient> {
    const port = typeof sim === "number" ? sim : sim.port;
    const client = new RecordingClient(port, clientId);
    client.api.connect(clientId);
    const [id] = await client.waitFor(EventName.nextValidId, () => true, timeoutMs);
    client.nextValidId = id as number;
    return client;
  }

  private record(name: string, args: unknown[]): void {
    this.events.push([name, args]);
    if (name === EventName.error) {
      const [error, code, reqId] = args as [Error, number, number];
      this.errors.push({ code, reqId, message: error?.message ?? String(error) });
    } else if (name === EventName.info) {
      const [message, code] = args as [string, number];
      this.errors.push({ code, reqId: -1, message });
    }
    const matched = this.waiting.filter((w) => w.name === name && w.test(args));
    this.waiting = this.waiting.filter((w) => !matched.includes(w));
    for (const w of matched) w.resolve(args);
  }

  /** The arguments of every `name` event so far. */
  all(name: string): unknown[][] {
    return this.events.filter(([n]) => n === name).map(([, args]) => args);
  }

  /** Resolves with the first `name` event (already received or still to come) that passes `test`. */
  waitFor(
    name: string,
    test: (args: unknown[]) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<unknown[]> {
    const seen = this.events.find(([n, args]) => n === name && test(args));
    if (seen) return Promise.resolve(seen[1]);
    return this.waitForNext(name, test, timeoutMs);
  }

  /** Like waitFor, but only events that arrive from now on. */
  waitForNext(
    name: string,
    test: (args: unknown[]) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== listener);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for "${name}" (client ${this.clientId})`));
      }, timeoutMs);
      const listener: Listener = {
        name,
        test,
        resolve: (args) => {
          clearTimeout(timer);
          resolve(args);
        },
      };
      this.waiting.push(listener);
    });
  }

  /** Waits for an error or notice with this code (and request id, when given). */
  waitForError(code: number, reqId?: number, timeoutMs = 3000): Promise<IbError> {
    const matches = (e: IbError) => e.code === code && (reqId === undefined || e.reqId === reqId);
    const seen = this.errors.find(matches);
    if (seen) return Promise.resolve(seen);
    const toError = (args: unknown[], name: string): IbError =>
      name === EventName.info
        ? { code: args[1] as number, reqId: -1, message: args[0] as string }
        : { code: args[1] as number, reqId: args[2] as number, message: (args[0] as Error).message };
    return Promise.race([
      this.waitForNext(EventName.error, (a) => matches(toError(a, EventName.error)), timeoutMs).then((a) =>
        toError(a, EventName.error),
      ),
      this.waitForNext(EventName.info, (a) => matches(toError(a, EventName.info)), timeoutMs).then((a) =>
        toError(a, EventName.info),
      ),
    ]);
  }

  /** stoqey's complaints about frames it could not decode exactly: must stay empty. */
  get decodeErrors(): IbError[] {
    return this.errors.filter((e) => /Decoding error|Underrun|unprocessed data/i.test(e.message));
  }

  /** Resolves when the socket is closed. */
  closed(timeoutMs = 3000): Promise<unknown[]> {
    return this.waitFor(EventName.disconnected, () => true, timeoutMs);
  }

  disconnect(): void {
    this.api.disconnect();
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The stock contract as an IB client sends it. */
export const stock = (symbol: string): Contract => ({
  symbol,
  secType: SecType.STK,
  exchange: "SMART",
  currency: "USD",
});
