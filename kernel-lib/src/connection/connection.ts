/**
 * The connection to TWS / IB Gateway: one @stoqey/ib IBApi per attempt (a fresh one after every drop,
 * so nothing queued on a dead connection is ever replayed), the handshake, the keepalive that catches
 * half-open sockets, and reconnects with backoff. It knows nothing of positions or orders; it tells
 * its owner when a connection is ready so that subscriptions can be restored.
 */
import { EventEmitter } from "node:events";
import { EventName, IBApi } from "@stoqey/ib";
import {
  ClientIdInUseError,
  ConnectionRefusedError,
  HandshakeTimeoutError,
  type IbkrError,
  NotConnectedError,
  ProtocolError,
} from "../errors";
import { IncomingGuard, type IncomingTraffic } from "./incoming-guard";
import { hostKind, type ResolvedOptions } from "./options";

export type ConnectionState = "connecting" | "connected" | "stale" | "reconnecting" | "disconnected";

export interface ConnectionStatus {
  state: ConnectionState;
  /** Why the state last changed ("keepalive unanswered", "socket closed", "closed by user" …). */
  reason: string;
  since: Date;
  lastConnectedAt: Date | undefined;
  host: string;
  port: number | undefined;
  clientId: number | undefined;
  serverVersion: number | undefined;
  accounts: readonly string[];
  /** "TWS" or "IB Gateway", guessed from the port. */
  kind: "TWS" | "IB Gateway" | "unknown";
}

export interface Session {
  api: IBApi;
  port: number;
  clientId: number;
  accounts: string[];
  nextValidId: number;
  serverVersion: number;
  /** Counts sessions: 1 for the first connection, 2 after the first reconnect … */
  generation: number;
  /** How often TWS has been heard from (reads from the socket). */
  traffic: IncomingTraffic;
}

/** The events a Connection emits. */
export interface ConnectionEvents {
  state: [ConnectionStatus];
  /** A connection finished its handshake; `reconnected` when it replaces a lost one. */
  ready: [Session, { reconnected: boolean }];
  /** A notice or error TWS sent about the connection (id -1), e.g. 1100/1101/1102, 2104. */
  notice: [{ code: number; message: string }];
  /** A malformed message from TWS (the connection is dropped and reconnected when it says so). */
  warning: [ProtocolError];
}

/** Client ids "auto" tries, from 2 up. */
const AUTO_CLIENT_IDS = 32;
/**
 * Outgoing messages per second: under IB's 50. @stoqey/ib lets rate/10 messages through per 100 ms
 * and rounds a fraction up (45 would let 5 through, i.e. 50/s, and jitter then trips IB's error 100),
 * so this must be a multiple of 10.
 */
const MAX_REQUESTS_PER_SECOND = 40;

/** Reconnect delays after a drop, by attempt: the gateway's daily restart is back within a second. */
const BACKOFF_MS = [100, 200, 400, 800, 1000];
/**
 * After connections that break on malformed messages one after another, the delay doubles from
 * 200 ms up to this: a TWS (or something else on its port) that sends the same bad message on every
 * connection must not be hammered ten times a second.
 */
const MAX_PROTOCOL_BACKOFF_MS = 30_000;
/**
 * Keepalive intervals (on time) with bytes coming but no message ending before the message in progress
 * is taken for a stream out of step (a length prefix that was not one: every later answer only
 * extends it). A long answer (bars, a scanner) ends well within one; on a slow link, within a minute.
 */
const STALLED_INTERVALS = 3;

export class Connection extends EventEmitter<ConnectionEvents> {
  private session: Session | undefined;
  private status: ConnectionStatus;
  private generation = 0;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** The session's reads when the keepalive's reqCurrentTime went out; undefined while none is awaited. */
  private readsAtKeepalive: number | undefined;
  private closed = false;
  /** When the current session became ready (ms, Date.now()). */
  private readyAt = 0;
  /** Connections in a row that broke on a malformed message; a session that lives a keepalive interval resets it. */
  private protocolDrops = 0;
  private readyWaiters: Array<{ resolve: (s: Session) => void; reject: (e: Error) => void }> = [];
  /** Ends the attempt in progress, if any: close() must not leave a handshake going on. */
  private abortAttempt: (() => void) | undefined;

  constructor(readonly options: ResolvedOptions) {
    super();
    this.status = {
      state: "disconnected",
      reason: "not connected yet",
      since: new Date(),
      lastConnectedAt: undefined,
      host: options.host,
      port: undefined,
      clientId: undefined,
      serverVersion: undefined,
      accounts: [],
      kind: "unknown",
    };
  }

  get state(): ConnectionStatus {
    return this.status;
  }

  /** The live session, or a NotConnectedError saying why there is none. */
  current(): Session {
    if (this.session && this.isCurrent(this.session)) return this.session;
    throw new NotConnectedError(this.status.state, this.status.reason);
  }

  /** Whether `session` is the live one. */
  isCurrent(session: Session): boolean {
    return session === this.session && (this.status.state === "connected" || this.status.state === "stale");
  }

  /** Resolves with the session once connected (at once when it is). */
  ready(timeoutMs = this.options.timeoutMs * 4): Promise<Session> {
    if (this.session && this.status.state === "connected") return Promise.resolve(this.session);
    if (this.closed) return Promise.reject(new NotConnectedError("disconnected", "closed"));
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
        reject(new NotConnectedError(this.status.state, this.status.reason));
      }, timeoutMs);
      timer.unref();
      waiter.resolve = (s) => {
        clearTimeout(timer);
        resolve(s);
      };
      waiter.reject = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      this.readyWaiters.push(waiter);
    });
  }

  private setState(state: ConnectionState, reason: string): void {
    const session = this.session;
    this.status = {
      state,
      reason,
      since: new Date(),
      lastConnectedAt: state === "connected" ? new Date() : this.status.lastConnectedAt,
      host: this.options.host,
      port: session?.port ?? this.status.port,
      clientId: session?.clientId ?? this.status.clientId,
      serverVersion: session?.serverVersion ?? this.status.serverVersion,
      accounts: session?.accounts ?? this.status.accounts,
      kind: session ? hostKind(session.port) : this.status.kind,
    };
    this.emit("state", this.status);
  }

  /** The first connection: every port of the broker in turn; with clientId "auto", ids from 2 up. */
  async open(): Promise<Session> {
    this.setState("connecting", `trying ${this.options.host}:${this.options.ports.join(", ")}`);
    try {
      const session = await this.connectAny();
      this.adopt(session, false);
      return session;
    } catch (error) {
      if (!this.closed) this.setState("disconnected", (error as Error).message);
      throw error;
    }
  }

  private async connectAny(): Promise<Session> {
    const { ports, host, broker } = this.options;
    const ids = this.options.clientId === "auto" ? range(2, AUTO_CLIENT_IDS) : [this.options.clientId];
    const preferredPort = this.session?.port;
    const order =
      preferredPort === undefined ? ports : [preferredPort, ...ports.filter((p) => p !== preferredPort)];
    let refusal: unknown;
    for (const port of order) {
      for (const clientId of this.session ? [this.session.clientId] : ids) {
        try {
          return await this.attempt(port, clientId);
        } catch (error) {
          if (error instanceof ClientIdInUseError && ids.length > 1 && !this.session) continue;
          if (error instanceof RefusedAttempt) {
            refusal = error.cause;
            break; // nothing on this port: try the next one
          }
          throw error;
        }
      }
    }
    if (this.options.clientId === "auto" && refusal === undefined) {
      throw new ClientIdInUseError(ids[ids.length - 1] as number);
    }
    throw new ConnectionRefusedError(host, order, broker, refusal);
  }

  /**
   * One connection attempt on one port with one client id, up to ready. Its listeners of errors,
   * notices and the socket's end serve the handshake, then (once it succeeded) the session for its
   * whole life; those of the handshake's messages hear nothing after it.
   */
  private attempt(port: number, clientId: number): Promise<Session> {
    const api = new IBApi({ host: this.options.host, port, maxReqPerSec: MAX_REQUESTS_PER_SECOND });
    const incoming = new IncomingGuard(api, this.options.host, port);
    return new Promise<Session>((resolve, reject) => {
      let accounts: string[] | undefined;
      let nextValidId: number | undefined;
      let serverVersion: number | undefined;
      let socketOpen = false;
      let settled = false;
      /** The session the handshake made, once it succeeded. */
      let session: Session | undefined;
      const finish = (error: Error | undefined) => {
        if (settled) return;
        settled = true;
        this.abortAttempt = undefined;
        clearTimeout(timer);
        if (error) {
          api.removeAllListeners();
          api.disconnect();
          reject(error);
          return;
        }
        session = {
          api,
          port,
          clientId,
          accounts: accounts ?? [],
          nextValidId: nextValidId ?? 1,
          serverVersion: serverVersion ?? 0,
          generation: ++this.generation,
          traffic: incoming,
        };
        resolve(session);
      };
      const timer = setTimeout(() => {
        const stage = !socketOpen
          ? "no answer to the API hello"
          : accounts === undefined
            ? "no managed accounts: TWS may be waiting for login or 2FA"
            : "no next order id";
        finish(new HandshakeTimeoutError(this.options.host, port, this.options.timeoutMs, stage));
      }, this.options.timeoutMs);
      timer.unref();

      api.on(EventName.server, (version: number) => {
        socketOpen = true;
        serverVersion = version;
      });
      api.on(EventName.managedAccounts, (list: string) => {
        accounts = list.split(",").filter(Boolean);
        if (nextValidId !== undefined) finish(undefined);
      });
      api.on(EventName.nextValidId, (id: number) => {
        nextValidId = id;
        if (accounts !== undefined) finish(undefined);
      });
      api.on(EventName.info, (message: string, code: number) => {
        if (session) this.onSessionNotice(session, message, code);
        else if (code === 326) finish(new ClientIdInUseError(clientId));
        else this.emit("notice", { code, message });
      });
      api.on(EventName.error, (error: Error, code: number) => {
        if (session) this.onSessionError(session, error, code);
        else if (error instanceof ProtocolError) {
          if (error.dropsConnection) finish(error);
          else this.emit("warning", error);
        } else if (code === 502 && !socketOpen) finish(new RefusedAttempt(port, error));
      });
      api.on(EventName.disconnected, () => {
        if (session)
          this.lost(session, "the socket closed (TWS / IB Gateway restarted or dropped the connection)");
        else if (!socketOpen)
          finish(new RefusedAttempt(port, new Error("connection closed before the API hello")));
        else
          finish(
            new HandshakeTimeoutError(
              this.options.host,
              port,
              this.options.timeoutMs,
              "the connection closed during the handshake",
            ),
          );
      });
      this.abortAttempt = () => finish(new NotConnectedError("disconnected", "closed during the handshake"));
      incoming.connect(clientId);
    });
  }

  /** A session's error: a malformed message or a dead socket loses it (lost() ignores one not in service). */
  private onSessionError(session: Session, error: Error, code: number): void {
    if (error instanceof ProtocolError) {
      this.emit("warning", error);
      if (error.dropsConnection)
        this.lost(session, `malformed message from TWS: ${error.what}`, { malformed: !error.cutOff });
    } else if (code === 502 || code === 504) this.lost(session, error.message);
  }

  /** A session's notice (id -1), e.g. farm status, or IB's connectivity lost (1100) and restored (1101/1102). */
  private onSessionNotice(session: Session, message: string, code: number): void {
    this.emit("notice", { code, message });
    if (this.session !== session) return; // not in service yet: a notice right after the handshake
    if (code === 1100 || code === 2110) this.setState("stale", `IB connectivity lost (${code}): ${message}`);
    if ((code === 1101 || code === 1102) && this.status.state === "stale")
      this.setState("connected", `connectivity restored (${code})`);
  }

  /** Takes a ready session into service: keepalive, state, waiters. */
  private adopt(session: Session, reconnected: boolean): void {
    this.session = session;
    this.readyAt = Date.now();
    this.startKeepalive(session);
    // The owner wires the session ("ready") before anyone hears it is connected: a "state" listener
    // that asks for something then finds it ready to ask on.
    this.emit("ready", session, { reconnected });
    this.setState("connected", reconnected ? "reconnected" : "connected");
    for (const waiter of this.readyWaiters.splice(0)) waiter.resolve(session);
  }

  private startKeepalive(session: Session): void {
    clearInterval(this.keepaliveTimer);
    this.readsAtKeepalive = undefined;
    // Whole messages at the last tick; since when none has ended; on-time ticks since then.
    let messagesAtTick = session.traffic.messages;
    let quietSince = performance.now();
    let quietTicks = 0;
    let lastTickAt = quietSince;
    // Anything TWS sends shows the connection alive, not only the keepalive's answer: a reqCurrentTime
    // can wait behind a burst of requests in @stoqey/ib's rate limiter (40/s) for longer than an interval.
    const unanswered = () => this.readsAtKeepalive === session.traffic.reads;
    this.keepaliveTimer = setInterval(() => {
      if (this.session !== session) return;
      const now = performance.now();
      // A tick that runs late follows a blocked event loop, which reads only so much per turn: a long
      // answer may be mid-way through no fault of the stream's. Only ticks on time count as quiet.
      const onTime = now - lastTickAt < 1.5 * this.options.keepaliveMs;
      lastTickAt = now;
      if (unanswered()) {
        // The last reqCurrentTime went unanswered for a whole interval: a half-open socket — unless
        // the answer is waiting to be read. After the event loop was blocked (a long synchronous
        // cell) an overdue timer runs before sockets are read, so judge once pending input is in.
        setImmediate(() => {
          if (this.closed || this.session !== session || !unanswered()) return;
          this.setState("stale", `keepalive unanswered for ${this.options.keepaliveMs} ms`);
          this.lost(session, "keepalive unanswered: the connection is half-open");
        });
        return;
      }
      const { reads, messages } = session.traffic;
      if (messages !== messagesAtTick) {
        messagesAtTick = messages;
        quietSince = now;
        quietTicks = 0;
      } else if (onTime && ++quietTicks >= STALLED_INTERVALS) {
        if (session.traffic.failStalled(formatSeconds(now - quietSince))) return;
      }
      this.readsAtKeepalive = reads;
      session.api.reqCurrentTime();
    }, this.options.keepaliveMs);
    this.keepaliveTimer.unref();
  }

  /** A session died: drop it for good and reconnect (unless closed or told not to). */
  private lost(session: Session, reason: string, cause: { malformed?: boolean } = {}): void {
    if (this.session !== session) return;
    clearInterval(this.keepaliveTimer);
    session.api.removeAllListeners();
    session.api.disconnect();
    if (this.closed) return;
    if (Date.now() - this.readyAt >= this.options.keepaliveMs) this.protocolDrops = 0;
    if (cause.malformed) this.protocolDrops++;
    if (!this.options.reconnect) {
      this.setState("disconnected", reason);
      this.rejectWaiters(() => new NotConnectedError("disconnected", reason));
      return;
    }
    this.scheduleReconnect(0, reason);
  }

  /** The wait before reconnect attempt `attempt` (0 for the first after a drop). */
  private reconnectDelay(attempt: number): number {
    const afterDrop = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] as number;
    if (this.protocolDrops < 2) return afterDrop;
    const afterMalformed = Math.min(100 * 2 ** (this.protocolDrops - 1), MAX_PROTOCOL_BACKOFF_MS);
    return Math.max(afterDrop, afterMalformed);
  }

  private scheduleReconnect(attempt: number, reason: string): void {
    const delay = this.reconnectDelay(attempt);
    this.setState(
      "reconnecting",
      this.protocolDrops < 2
        ? reason
        : `${reason} (${this.protocolDrops} connections in a row broke on malformed messages; next attempt in ${formatSeconds(delay)})`,
    );
    this.reconnectTimer = setTimeout(async () => {
      if (this.closed) return;
      try {
        const session = await this.connectAny();
        if (this.closed) {
          session.api.removeAllListeners();
          session.api.disconnect();
          return;
        }
        this.adopt(session, true);
      } catch (error) {
        if (this.closed) return;
        if (error instanceof ProtocolError && !error.cutOff) this.protocolDrops++;
        this.scheduleReconnect(
          attempt + 1,
          `${(error as IbkrError).what ?? (error as Error).message} (attempt ${attempt + 1})`,
        );
      }
    }, delay);
    // A notebook kernel stays alive by itself; a script should not be kept alive by reconnect attempts alone.
    this.reconnectTimer.unref();
  }

  /** The error is made only when someone waits (an Error's stack is costly). */
  private rejectWaiters(error: () => Error): void {
    if (this.readyWaiters.length === 0) return;
    const failure = error();
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(failure);
  }

  /** Disconnects for good: no reconnect, every waiter rejected. */
  close(reason = "closed by user"): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepaliveTimer);
    clearTimeout(this.reconnectTimer);
    this.abortAttempt?.();
    const session = this.session;
    if (session) {
      session.api.removeAllListeners();
      session.api.disconnect();
    }
    this.setState("disconnected", reason);
    this.rejectWaiters(() => new NotConnectedError("disconnected", reason));
  }
}

/** Nothing listening on a port: the caller moves on to the next port. */
class RefusedAttempt extends Error {
  constructor(
    readonly port: number,
    override readonly cause: Error,
  ) {
    super(`port ${port}: ${cause.message}`);
  }
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}
