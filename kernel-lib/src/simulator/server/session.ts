/**
 * One client connection: the opening handshake, framing in both directions, the per-client message
 * rate, and the client's subscriptions. What a request means is decided by the simulator; the
 * session only moves bytes and keeps per-client state.
 */
import type { Socket } from "node:net";
import { SlidingWindow } from "../../util/sliding-window";
import { ProtocolError } from "../protocol/fields";
import { decodeFields, encodeFrame, FrameReader, parseClientHello } from "../protocol/framing";
import type { ClientRequest } from "../protocol/messages";
import { ServerMessageEncoder } from "../protocol/serializer";
import { negotiateVersion } from "../protocol/versions";
import { connectionTime } from "./time";

export type SessionState = "hello" | "starting" | "awaitingLogin" | "ready" | "closed";

export interface MarketDataSubscription {
  conId: number;
  snapshot: boolean;
}

export interface SessionHost {
  readonly maxServerVersion: number;
  readonly messageRateLimit: number;
  readonly latencyMs: number;
  now(): number;
  log(line: string): void;
  /** A complete frame arrived after the handshake. */
  frame(session: ClientSession, fields: string[]): void;
  closed(session: ClientSession): void;
}

/** How many requests a session keeps for `received()`; older ones are dropped. */
const RECEIVED_LIMIT = 10_000;

export class ClientSession {
  private static nextConnection = 1;
  readonly connection = ClientSession.nextConnection++;
  state: SessionState = "hello";
  clientId: number | undefined;
  serverVersion = 0;
  encoder: ServerMessageEncoder = new ServerMessageEncoder(0);
  /** Requests this client sent, decoded, oldest first (bounded). */
  readonly received: ClientRequest[] = [];
  /** Half-open fault: the socket stays open, nothing is read or answered. */
  frozen = false;

  readonly marketData = new Map<number, MarketDataSubscription>();
  positions = false;
  accountUpdates: string | undefined;
  readonly accountSummaries = new Map<number, Set<string> | "all">();
  readonly accountUpdatesMulti = new Map<number, string>();
  readonly pnl = new Map<number, string>();
  readonly pnlSingle = new Map<number, { account: string; conId: number }>();
  readonly historicalUpdates = new Map<number, { conId: number; barSeconds: number; formatDate: number }>();
  autoBind = false;

  private readonly reader = new FrameReader({ expectApiPrefix: true });
  private readonly rate = new SlidingWindow(1_000);
  private rateErrorAt = 0;
  private pending: Buffer[] = [];
  private flushScheduled = false;
  /** Messages held back by the latency fault, each with the time (performance.now) it may leave. */
  private delayed: Array<{ frame: Buffer; due: number }> = [];
  private delayTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Socket,
    private readonly host: SessionHost,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => {}); // a reset peer is an ordinary close here
    socket.on("close", () => this.onClose());
  }

  get label(): string {
    const who = this.clientId === undefined ? "" : ` client ${this.clientId}`;
    return `#${this.connection}${who} (${this.socket.remoteAddress}:${this.socket.remotePort})`;
  }

  get isOpen(): boolean {
    return this.state !== "closed";
  }

  private onData(chunk: Buffer): void {
    if (this.frozen || this.state === "closed") return;
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (error) {
      this.host.log(`${this.label}: ${(error as Error).message}; closing`);
      if (this.state !== "hello") this.sendError(-1, 507, `Bad message length: ${(error as Error).message}`);
      this.close();
      return;
    }
    for (const payload of frames) {
      if (!this.isOpen || this.frozen) return;
      if (this.state === "hello") {
        this.onHello(payload);
        continue;
      }
      if (!this.admit()) continue;
      this.host.frame(this, decodeFields(payload));
    }
  }

  /** IB's ~50 messages/s per client: excess requests are dropped with error 100, once per second. */
  private admit(): boolean {
    const now = this.host.now();
    const count = this.rate.hit(now);
    if (count <= this.host.messageRateLimit) return true;
    if (now - this.rateErrorAt >= 1_000) {
      this.rateErrorAt = now;
      this.sendError(
        -1,
        100,
        `Max rate of messages per second has been exceeded:max=${this.host.messageRateLimit} rec=${count} (1)`,
      );
    }
    return false;
  }

  private onHello(payload: Buffer): void {
    try {
      const hello = parseClientHello(payload);
      const negotiated = negotiateVersion(hello.minVersion, hello.maxVersion, this.host.maxServerVersion);
      if (!negotiated.ok) {
        this.host.log(`${this.label}: ${negotiated.reason}; closing`);
        this.close();
        return;
      }
      this.serverVersion = negotiated.version;
      this.encoder = new ServerMessageEncoder(negotiated.version);
      this.state = "starting";
      this.send(this.encoder.serverHello(connectionTime(this.host.now())));
      this.host.log(
        `${this.label}: v${hello.minVersion}..${hello.maxVersion} → server version ${negotiated.version}`,
      );
    } catch (error) {
      const reason = error instanceof ProtocolError ? error.message : String(error);
      this.host.log(`${this.label}: ${reason}; closing`);
      this.close();
    }
  }

  record(request: ClientRequest): void {
    this.received.push(request);
    if (this.received.length > RECEIVED_LIMIT) this.received.splice(0, this.received.length - RECEIVED_LIMIT);
  }

  /**
   * Queues one message; queued messages go out together, in order, on the next turn of the event
   * loop. With added latency each message leaves no sooner than `latencyMs` after it was queued.
   */
  send(fields: readonly string[]): void {
    this.enqueue(encodeFrame(fields));
  }

  /**
   * Queues bytes exactly as given, framed or not, in order with the messages: the corrupt-stream
   * fault, for testing what a client does with what no TWS should send.
   */
  sendRaw(bytes: Buffer): void {
    this.enqueue(bytes);
  }

  private enqueue(frame: Buffer): void {
    if (this.state === "closed" || this.frozen) return;
    const latency = this.host.latencyMs;
    if (latency > 0 || this.delayed.length > 0) {
      // Behind anything still held back, so the order never changes when the latency does.
      const last = this.delayed[this.delayed.length - 1]?.due ?? 0;
      this.delayed.push({ frame, due: Math.max(performance.now() + latency, last) });
      if (!this.delayTimer) this.armDelay();
      return;
    }
    this.pending.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private armDelay(): void {
    const head = this.delayed[0];
    this.delayTimer = head
      ? setTimeout(() => this.releaseDelayed(), Math.max(0, Math.ceil(head.due - performance.now())))
      : undefined;
  }

  /** Sends the held-back messages whose time has come. */
  private releaseDelayed(): void {
    this.delayTimer = undefined;
    if (this.state === "closed" || this.frozen) {
      this.delayed = [];
      return;
    }
    const now = performance.now();
    let due = 0;
    while (due < this.delayed.length && (this.delayed[due] as { due: number }).due <= now) due++;
    if (due > 0) this.socket.write(Buffer.concat(this.delayed.splice(0, due).map((d) => d.frame)));
    this.armDelay();
  }

  sendError(id: number, code: number, message: string): void {
    this.send(this.encoder.error(id, code, message));
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.state === "closed" || this.frozen) {
      this.pending = [];
      return;
    }
    const data = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    this.pending = [];
    this.socket.write(data);
  }

  /** Sends what is queued, then closes the socket. */
  close(): void {
    if (this.state === "closed") return;
    this.flush();
    clearTimeout(this.delayTimer);
    if (this.delayed.length > 0 && !this.frozen) {
      this.socket.write(Buffer.concat(this.delayed.map((d) => d.frame)));
    }
    this.delayed = [];
    this.socket.end();
    this.markClosed();
  }

  /** Drops the connection without a goodbye, as a gateway restart does. */
  destroy(): void {
    this.pending = [];
    this.delayed = [];
    clearTimeout(this.delayTimer);
    this.socket.destroy();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.host.closed(this);
  }

  private onClose(): void {
    this.markClosed();
  }
}
