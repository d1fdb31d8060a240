/**
 * Checks every message TWS sends before @stoqey/ib 1.6.10 decodes it, because that decoder trusts
 * its input: a length prefix with the top bit set makes its frame loop skip bytes or spin for ever,
 * a length beyond its limit stalls the stream until 16 MB have arrived (so do bytes out of step read
 * as a length within it), a message without its final NUL is glued to the next one, and a decoder
 * that meets a bad count (`new Array(-1)`) or bad JSON throws out of the socket's 'data' handler,
 * which kills a notebook kernel. Fields missing or left over come out only as error 505 with id -1,
 * after the garbled message's events went out anyway.
 *
 * So the guard stands between one IBApi's socket and its decoder (the library pins @stoqey/ib): a
 * broken framing drops the connection at once; a message id @stoqey/ib has no decoder for is skipped;
 * a message its decoder cannot read, or whose position, order or fill numbers came out as NaN (text
 * where TWS sends digits), emits none of its events and drops the connection, since the state it
 * carried is lost and only a fresh download restores it. Each problem becomes a ProtocolError on
 * the IBApi's error event (id -1), where the Connection acts on it.
 *
 * It changes no property of @stoqey/ib's objects, only which listener reads the TCP socket and whom
 * the decoder reports to: @stoqey/ib's code, shared by every IBApi in the process, then meets objects
 * of one shape, and V8 keeps it optimized (patched instances made it polymorphic, and deoptimized it
 * over and over when another IBApi ran in the same process).
 */
import { isUtf8 } from "node:buffer";
import type { Socket } from "node:net";
import { EventName, type IBApi } from "@stoqey/ib";
import { IN_MSG_ID } from "@stoqey/ib/dist/core/io/enum/in-msg-id";
import { ProtocolError } from "../errors";

/** The largest message @stoqey/ib accepts (its MAX_V100_MESSAGE_LENGTH, taken from IB's Java client). */
const MAX_MESSAGE_LENGTH = 0xffffff;
/** A message's start this long holds its length prefix and (in a sound stream) its whole message id. */
const START_CHECKED_BYTES = 4 + 10;
/** How much of a bad message a ProtocolError quotes. */
const EXCERPT_CHARS = 80;
/** @stoqey/ib's code for its decoder's complaints (unknown id, fields missing or left over). */
const DECODER_COMPLAINT = 505;

type Fields = Record<string, unknown>;

/**
 * The numbers the library keeps as state (positions, orders, fills), by event: each named, with the
 * event argument it is (and the field of that argument, for an object). TWS sends only numbers
 * there; @stoqey/ib turns text into NaN without a word, so a NaN means a garbled message.
 */
const STATE_NUMBERS: Record<string, ReadonlyArray<readonly [name: string, arg: number, field?: string]>> = {
  [EventName.position]: [
    ["conId", 1, "conId"],
    ["position", 2],
    ["avgCost", 3],
  ],
  [EventName.updatePortfolio]: [
    ["conId", 0, "conId"],
    ["position", 1],
    ["marketPrice", 2],
    ["marketValue", 3],
    ["avgCost", 4],
  ],
  [EventName.orderStatus]: [
    ["orderId", 0],
    ["filled", 2],
    ["remaining", 3],
    ["avgFillPrice", 4],
    ["permId", 5],
  ],
  [EventName.openOrder]: [
    ["orderId", 0],
    ["conId", 1, "conId"],
    ["totalQuantity", 2, "totalQuantity"],
    ["permId", 2, "permId"],
  ],
  [EventName.execDetails]: [
    ["conId", 1, "conId"],
    ["orderId", 2, "orderId"],
    ["shares", 2, "shares"],
    ["price", 2, "price"],
  ],
};

/** The state numbers of an event that are not numbers, named; undefined (no allocation) when all are. */
function garbledNumbers(eventName: string, args: readonly unknown[]): string[] | undefined {
  const numbers = STATE_NUMBERS[eventName];
  if (numbers === undefined) return undefined;
  let garbled: string[] | undefined;
  for (let i = 0; i < numbers.length; i++) {
    // Indexed, not destructured: array destructuring runs the iterator protocol until V8 optimizes
    // the function, and this runs for every position, order and fill.
    const entry = numbers[i] as (typeof numbers)[number];
    const arg = entry[1];
    const field = entry[2];
    const value = field === undefined ? args[arg] : (args[arg] as Fields | undefined)?.[field];
    if (!Number.isNaN(value)) continue;
    garbled ??= [];
    garbled.push(entry[0]);
  }
  return garbled;
}

/** What the decoder reports to (@stoqey/ib's DecoderCallbacks): the controller, or the guard in its place. */
interface DecoderCallbacks {
  readonly serverVersion: number;
  emitEvent(eventName: string, ...args: unknown[]): void;
  emitError(message: string, code: number, reqId?: number, advancedOrderReject?: unknown): void;
  emitInfo(message: string, code: number): void;
}

/** The parts of @stoqey/ib 1.6.10's IBApi the guard uses. */
interface StoqeyInternals extends DecoderCallbacks {
  socket: { client?: Socket; onMessage(text: string): void; onEnd(): void };
  decoder: Record<string, unknown> & { callback: DecoderCallbacks; drainQueue(): void };
}

function internals(api: IBApi): StoqeyInternals {
  const controller = (api as unknown as { controller?: Partial<StoqeyInternals> }).controller;
  if (
    typeof controller?.socket?.onMessage !== "function" ||
    typeof controller.socket.onEnd !== "function" ||
    controller.decoder?.callback !== controller ||
    typeof controller.decoder.drainQueue !== "function" ||
    typeof controller.emitEvent !== "function" ||
    typeof controller.emitError !== "function" ||
    typeof controller.emitInfo !== "function"
  ) {
    throw new Error(
      "ibkr-notebook: @stoqey/ib's IBApi is not the one this library was built on (1.6.10); reinstall ibkr-notebook's dependencies.",
    );
  }
  return controller as StoqeyInternals;
}

/** By decoder prototype: the names of the message ids it has a decodeMsg_ function for, indexed by id. */
const decodableByClass = new WeakMap<object, ReadonlyArray<string | undefined>>();

function decodableIds(decoder: object): ReadonlyArray<string | undefined> {
  const prototype = Object.getPrototypeOf(decoder) as Record<string, unknown>;
  let names = decodableByClass.get(prototype);
  if (names === undefined) {
    const table: Array<string | undefined> = [];
    for (const [name, id] of Object.entries(IN_MSG_ID)) {
      if (typeof id === "number" && typeof prototype[`decodeMsg_${name}`] === "function") table[id] = name;
    }
    names = table;
    decodableByClass.set(prototype, names);
  }
  return names;
}

/** What the guard counts of a connection's input. */
export interface IncomingTraffic {
  /** Reads from the socket so far. */
  readonly reads: number;
  /** Whole messages so far. */
  readonly messages: number;
  /**
   * When a message is partway in, reports it as stalled (a ProtocolError that drops the connection)
   * and returns true: for a keepalive that saw bytes come for `waited` (e.g. "60 s") but no whole
   * message, as when a length prefix was not one and every later answer only extends that message.
   */
  failStalled(waited: string): boolean;
}

/**
 * The guard of one IBApi, made before it connects; connect() through it. It reads the TCP socket in
 * @stoqey/ib's place: it finds the messages in each read, checks each, and hands its text to the
 * socket's onMessage, the step after @stoqey/ib's own framing (which would copy every message once
 * more). The decoder reports to the guard, which passes on what a sound message emits. It counts the
 * reads and the whole messages, for a keepalive to tell that TWS spoke and that the stream moves; it
 * holds nothing of its owner, as the IBApi outlives its close for a while (@stoqey/ib's rate-limit
 * timer).
 */
export class IncomingGuard implements DecoderCallbacks, IncomingTraffic {
  reads = 0;
  messages = 0;
  private readonly controller: StoqeyInternals;
  private readonly decodable: ReadonlyArray<string | undefined>;
  /** A message still arriving, in the reads it came in, and how many bytes it takes to go on. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private needed = 4;
  private first = true;
  /** Set once the stream is dropped: nothing more is decoded. */
  private broken = false;
  /** While one message is decoded: its name, and what went wrong with it, if anything. */
  private decoding: string | undefined = undefined;
  private problems: string[] | undefined = undefined;
  /** While the decoder's report goes out to listeners: what they throw is theirs, not the message's. */
  private emitting = false;

  constructor(
    private readonly api: IBApi,
    private readonly host: string,
    private readonly port: number,
  ) {
    this.controller = internals(api);
    this.decodable = decodableIds(this.controller.decoder);
    this.controller.decoder.callback = this;
  }

  get serverVersion(): number {
    return this.controller.serverVersion;
  }

  /** IBApi.connect, with the socket's input read by the guard. */
  connect(clientId: number): void {
    this.api.connect(clientId);
    const client = this.controller.socket.client;
    if (!client) throw new Error("ibkr-notebook: @stoqey/ib's IBApi did not open a socket on connect()");
    client.removeAllListeners("data");
    client.on("data", (data: Buffer) => this.onData(data));
    // Ahead of @stoqey/ib's own: a message cut off by the close is reported before `disconnected`.
    const onEnd = () => this.onEnd();
    client.prependListener("end", onEnd);
    client.prependListener("close", onEnd);
  }

  private onData(data: Buffer): void {
    if (this.broken) return;
    this.reads++;
    let bytes = data;
    if (this.pendingBytes > 0) {
      this.pending.push(data);
      this.pendingBytes += data.length;
      if (this.pendingBytes < this.needed) {
        // Copied together once, when enough has arrived; but a start that came in pieces is joined
        // (small) and checked as soon as its first field is in.
        if ((this.pending[0] as Buffer).length < START_CHECKED_BYTES) {
          const start = Buffer.concat(this.pending, this.pendingBytes);
          this.pending = [start];
          this.checkStart(start);
        }
        return;
      }
      bytes = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let offset = 0;
    while (offset + 4 <= bytes.length) {
      const length = bytes.readUInt32BE(offset);
      if (length === 0 || length > MAX_MESSAGE_LENGTH) {
        const size = length === 0 ? "an empty message" : `a message of ${length} bytes`;
        const what = `the length prefix announces ${size} (TWS sends 1 to ${MAX_MESSAGE_LENGTH})`;
        this.problem(507, what, Buffer.alloc(0), true);
        return;
      }
      const end = offset + 4 + length;
      if (end > bytes.length) break; // the rest is still on its way
      if (!this.accept(bytes, offset + 4, end)) return;
      offset = end;
    }
    if (offset < bytes.length) {
      const rest = bytes.subarray(offset);
      if (!this.checkStart(rest)) return;
      this.pending.push(rest);
      this.pendingBytes = rest.length;
      this.needed = rest.length < 4 ? 4 : 4 + rest.readUInt32BE(0);
    }
  }

  /**
   * The start of a message still arriving (its length prefix and what came of the rest): false, and
   * the stream dropped, when its first field cannot be a message id. Then the length prefix was not
   * one either, and waiting for the bytes it announces (up to 16 MB) would hold the stream: every
   * later answer, the keepalive's too, would only extend that message, and the connection look alive.
   */
  private checkStart(start: Buffer): boolean {
    if (this.first || start.length <= 4 || startsWithMessageId(start, 4, start.length)) return true;
    const what =
      `the length prefix announces a message of ${start.readUInt32BE(0)} bytes, ` +
      "but what follows does not begin with a message id";
    this.problem(507, what, start.subarray(4), true);
    return false;
  }

  /** One whole message, bytes[start, end) without its length prefix; false once the stream is dropped. */
  private accept(bytes: Buffer, start: number, end: number): boolean {
    this.messages++;
    if (bytes[end - 1] !== 0) {
      const text = "the message does not end with a NUL, so its last field would run into the next message";
      this.problem(507, text, bytes.subarray(start, end), true);
      return false;
    }
    const text = bytes.toString("utf8", start, end);
    // Bytes that are not UTF-8 decode as U+FFFD: only text with one in it can be broken.
    if (text.includes("\uFFFD") && !isUtf8(bytes.subarray(start, end))) {
      this.problem(508, "the message is not valid UTF-8", bytes.subarray(start, end), true);
      return false;
    }
    if (this.first) {
      this.first = false; // the server version and connection time: no message id
      this.controller.socket.onMessage(text);
      return !this.broken;
    }
    const id = messageId(bytes, start, end);
    const name = id === undefined ? undefined : this.decodable[id];
    if (name === undefined) {
      const idField = text.slice(0, text.indexOf("\0"));
      const what = `message id "${idField.slice(0, 20)}" is not one @stoqey/ib can decode; skipped`;
      this.problem(505, what, bytes.subarray(start, end), false);
      return true;
    }
    this.decoding = name;
    try {
      this.controller.socket.onMessage(text);
    } catch (error) {
      // A decoder that throws (a negative count, bad JSON) fails its message, not the process; what
      // a listener throws goes on its way. Running out of fields is @stoqey/ib's own UnderrunError,
      // which it catches itself and complains of (emitError).
      if (this.emitting) {
        this.emitting = false;
        throw error;
      }
      this.controller.decoder.drainQueue(); // the rest of the message
      this.fail(`${(error as Error).name}: ${(error as Error).message}`);
    } finally {
      this.decoding = undefined;
      const problems = this.problems;
      if (problems !== undefined) {
        this.problems = undefined;
        const what = `${name} (id ${id}) could not be decoded: ${problems.join("; ")}`;
        this.problem(508, what, bytes.subarray(start, end), true);
      }
    }
    return !this.broken;
  }

  // ── the decoder's reports ───────────────────────────────────────────────────────────────────

  /** An event of the message being decoded: none goes out once it failed, as they carry its garbled fields. */
  emitEvent(eventName: string, ...args: unknown[]): void {
    if (this.decoding !== undefined) {
      const garbled = garbledNumbers(eventName, args);
      if (garbled !== undefined) this.fail(`${eventName}: ${garbled.join(", ")} not a number`);
      if (this.problems !== undefined) return;
    }
    this.emitting = true;
    this.controller.emitEvent(eventName, ...args);
    this.emitting = false;
  }

  /** @stoqey/ib's complaints about the message being decoded (fields missing or left over) fail it. */
  emitError(message: string, code: number, reqId?: number, advancedOrderReject?: unknown): void {
    if (this.decoding !== undefined && code === DECODER_COMPLAINT && reqId === undefined) {
      this.fail(message.replace(/\s*Please report to \S+$/, ""));
      return;
    }
    this.emitting = true;
    this.controller.emitError(message, code, reqId, advancedOrderReject);
    this.emitting = false;
  }

  emitInfo(message: string, code: number): void {
    this.emitting = true;
    this.controller.emitInfo(message, code);
    this.emitting = false;
  }

  // ── problems ────────────────────────────────────────────────────────────────────────────────

  private fail(text: string): void {
    this.problems ??= [];
    this.problems.push(text);
  }

  private problem(
    code: 505 | 507 | 508,
    text: string,
    payload: Buffer,
    drops: boolean,
    cutOff = false,
  ): void {
    const error = new ProtocolError({
      code,
      problem: text,
      excerpt: excerpt(payload),
      dropsConnection: drops,
      cutOff,
      host: this.host,
      port: this.port,
    });
    if (drops) {
      this.broken = true;
      this.pending = [];
      this.pendingBytes = 0;
    }
    this.api.emit(EventName.error, error, error.code, -1);
  }

  failStalled(waited: string): boolean {
    if (this.broken || this.pendingBytes < 4) return false;
    const rest = Buffer.concat(this.pending, this.pendingBytes);
    const what =
      `the length prefix announces a message of ${rest.readUInt32BE(0)} bytes; ${rest.length - 4} came ` +
      `in ${waited} in which no message ended, so the stream is out of step`;
    this.problem(507, what, rest.subarray(4), true);
    return true;
  }

  /** The socket ended or closed (both come): a message it cut off is reported once. */
  private onEnd(): void {
    if (this.broken || this.pendingBytes === 0) return;
    const rest = Buffer.concat(this.pending, this.pendingBytes);
    const arrived =
      rest.length < 4
        ? `${rest.length} of the 4 bytes of its length prefix arrived`
        : `${rest.length - 4} of ${rest.readUInt32BE(0)} bytes arrived`;
    this.problem(
      507,
      `the connection closed in the middle of a message (${arrived})`,
      rest.subarray(4),
      true,
      true,
    );
  }
}

/** The message id (the first field: 1 to 9 digits) of bytes[start, end); undefined if it is not one. */
function messageId(bytes: Buffer, start: number, end: number): number | undefined {
  let id = 0;
  let i = start;
  for (; i < end && bytes[i] !== 0; i++) {
    const digit = (bytes[i] as number) - 48;
    if (digit < 0 || digit > 9 || i - start === 9) return undefined;
    id = id * 10 + digit;
  }
  return i === start ? undefined : id;
}

/**
 * Whether bytes[start, end), the beginning of a message, can begin with a message id: 1 to 9 digits
 * and a NUL, as far as they have arrived.
 */
function startsWithMessageId(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = bytes[i] as number;
    if (byte === 0) return i > start;
    if (byte < 48 || byte > 57 || i - start === 9) return false;
  }
  return true;
}

/** The first characters of a message, fields separated by "|", for an error to quote. */
function excerpt(payload: Buffer): string {
  const text = payload.toString("utf8", 0, Math.min(payload.length, EXCERPT_CHARS * 4)).replace(/\0/g, "|");
  const visible = text.replace(/[^\x20-\x7e]/g, "?");
  return visible.length > EXCERPT_CHARS ? `${visible.slice(0, EXCERPT_CHARS)}…` : visible;
}
