/**
 * Checks every message TWS sends before @stoqey/ib 1.6.10 decodes it, because that decoder trusts
 * its input: a length prefix with the top bit set makes its frame loop skip bytes or spin for ever,
 * a length beyond its limit stalls the stream until 16 MB have arrived, a message without its final
 * NUL is glued to the next one, and a decoder that meets a bad count (`new Array(-1)`) or bad JSON
 * throws out of the socket's 'data' handler, which kills a notebook kernel. Fields missing or left
 * over come out only as error 505 with id -1, after the garbled message's events went out anyway.
 *
 * So one IBApi's socket and decoder are wrapped (per instance; the library pins @stoqey/ib): a broken
 * framing drops the connection at once; a message id @stoqey/ib has no decoder for is skipped; a
 * message its decoder cannot read, or whose position, order or fill numbers came out as NaN (text
 * where TWS sends digits), emits none of its events and drops the connection, since the state it
 * carried is lost and only a fresh download restores it. Each problem becomes a ProtocolError on
 * the IBApi's error event (id -1), where the Connection acts on it.
 */
import { isUtf8 } from "node:buffer";
import { EventName, type IBApi } from "@stoqey/ib";
import { IN_MSG_ID } from "@stoqey/ib/dist/core/io/enum/in-msg-id";
import { ProtocolError } from "../errors";

/** The largest message @stoqey/ib accepts (its MAX_V100_MESSAGE_LENGTH, taken from IB's Java client). */
const MAX_MESSAGE_LENGTH = 0xffffff;
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
    const [name, arg, field] = numbers[i] as (typeof numbers)[number];
    const value = field === undefined ? args[arg] : (args[arg] as Fields | undefined)?.[field];
    if (!Number.isNaN(value)) continue;
    garbled ??= [];
    garbled.push(name);
  }
  return garbled;
}

/** The parts of @stoqey/ib 1.6.10's IBApi the guard wraps or calls. */
interface StoqeyInternals {
  socket: { onData(data: Buffer): void; onMessage(text: string): void; onEnd(): void };
  decoder: Record<string, unknown> & {
    processMsg(msgId: number): void;
    /** The events of the message being decoded, emitted once it is read to its end. */
    emitQueue: Array<{ name: string; args: unknown[] }>;
  };
  emitError(message: string, code: number, reqId?: number, advancedOrderReject?: unknown): void;
}

function internals(api: IBApi): StoqeyInternals {
  const controller = (api as unknown as { controller?: Partial<StoqeyInternals> }).controller;
  if (
    typeof controller?.socket?.onData !== "function" ||
    typeof controller.socket.onMessage !== "function" ||
    typeof controller.socket.onEnd !== "function" ||
    typeof controller.decoder?.processMsg !== "function" ||
    !Array.isArray(controller.decoder.emitQueue) ||
    typeof controller.emitError !== "function"
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
  reads: number;
}

/**
 * Puts the guard between one IBApi's socket and its decoder, before it connects. The guard reads the
 * socket itself: it finds the messages in each read, checks each, and hands its text to the socket's
 * onMessage, the step after @stoqey/ib's own framing (which would copy every message once more).
 * It counts the reads, for a keepalive to tell that TWS spoke: a counter the owner reads, rather than a
 * callback, so that the IBApi (kept alive a while after it closes by @stoqey/ib's rate-limit timer)
 * holds nothing of its owner.
 */
export function guardIncoming(api: IBApi, host: string, port: number): IncomingTraffic {
  const io = internals(api);
  const { socket, decoder } = io;
  const endSocket = socket.onEnd.bind(socket);
  const processMsg = decoder.processMsg.bind(decoder);
  const emitError = io.emitError.bind(io);
  const decodable = decodableIds(decoder);

  /** A message still arriving, in the reads it came in, and how many bytes it takes to go on. */
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let needed = 4;
  let first = true;
  /** Set once the stream is dropped: nothing more is decoded. */
  let broken = false;
  /** While one message is decoded: its name, and what went wrong with it, if anything. */
  let decoding: string | undefined;
  let problems: string[] | undefined;
  const traffic: IncomingTraffic = { reads: 0 };

  const report = (error: ProtocolError) => {
    if (error.dropsConnection) {
      broken = true;
      pending = [];
      pendingBytes = 0;
    }
    api.emit(EventName.error, error, error.code, -1);
  };
  const problem = (code: 505 | 507 | 508, text: string, payload: Buffer, drops: boolean, cause?: unknown) =>
    report(new ProtocolError(code, text, excerpt(payload), drops, host, port, cause));
  /** The message being decoded failed: none of its events go out, as they would carry its garbled fields. */
  const fail = (text: string) => {
    problems ??= [];
    problems.push(text);
    decoder.emitQueue.length = 0;
  };

  /** One whole message, bytes[start, end) without its length prefix; false once the stream is dropped. */
  const accept = (bytes: Buffer, start: number, end: number): boolean => {
    if (bytes[end - 1] !== 0) {
      const text = "the message does not end with a NUL, so its last field would run into the next message";
      problem(507, text, bytes.subarray(start, end), true);
      return false;
    }
    const text = bytes.toString("utf8", start, end);
    // Bytes that are not UTF-8 decode as U+FFFD: only text with one in it can be broken.
    if (text.includes("\uFFFD") && !isUtf8(bytes.subarray(start, end))) {
      problem(508, "the message is not valid UTF-8", bytes.subarray(start, end), true);
      return false;
    }
    if (first) {
      first = false; // the server version and connection time: no message id
      socket.onMessage(text);
      return !broken;
    }
    const id = messageId(bytes, start, end);
    const name = id === undefined ? undefined : decodable[id];
    if (name === undefined) {
      const idField = text.slice(0, text.indexOf("\0"));
      const what = `message id "${idField.slice(0, 20)}" is not one @stoqey/ib can decode; skipped`;
      problem(505, what, bytes.subarray(start, end), false);
      return true;
    }
    decoding = name;
    try {
      socket.onMessage(text);
    } finally {
      decoding = undefined;
      if (problems !== undefined) {
        const what = `${name} (id ${id}) could not be decoded: ${problems.join("; ")}`;
        problems = undefined;
        problem(508, what, bytes.subarray(start, end), true);
      }
    }
    return !broken;
  };

  socket.onData = (data: Buffer) => {
    if (broken) return;
    traffic.reads++;
    let bytes = data;
    if (pendingBytes > 0) {
      pending.push(data);
      pendingBytes += data.length;
      if (pendingBytes < needed) return; // copied together once, when enough has arrived
      bytes = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
    }
    let offset = 0;
    while (offset + 4 <= bytes.length) {
      const length = bytes.readUInt32BE(offset);
      if (length === 0 || length > MAX_MESSAGE_LENGTH) {
        const size = length === 0 ? "an empty message" : `a message of ${length} bytes`;
        const what = `the length prefix announces ${size} (TWS sends 1 to ${MAX_MESSAGE_LENGTH})`;
        problem(507, what, Buffer.alloc(0), true);
        return;
      }
      const end = offset + 4 + length;
      if (end > bytes.length) break; // the rest is still on its way
      if (!accept(bytes, offset + 4, end)) return;
      offset = end;
    }
    if (offset < bytes.length) {
      const rest = bytes.subarray(offset);
      pending.push(rest);
      pendingBytes = rest.length;
      needed = rest.length < 4 ? 4 : 4 + rest.readUInt32BE(0);
    }
  };

  // A decoder that throws (a negative count, bad JSON) fails its message, not the process. Running
  // out of fields is @stoqey/ib's own UnderrunError: it handles that itself, and complains (below).
  decoder.processMsg = (msgId: number) => {
    try {
      processMsg(msgId);
    } catch (error) {
      if (decoding === undefined || (error as Error).name === "UnderrunError") throw error;
      fail(`${(error as Error).name}: ${(error as Error).message}`);
      return;
    }
    if (decoding === undefined) return;
    const queue = decoder.emitQueue;
    for (let i = 0; i < queue.length; i++) {
      const { name, args } = queue[i] as (typeof queue)[number];
      const garbled = garbledNumbers(name, args);
      if (garbled !== undefined) fail(`${name}: ${garbled.join(", ")} not a number`);
    }
  };
  io.emitError = (message, code, reqId, advancedOrderReject) => {
    if (decoding !== undefined && code === DECODER_COMPLAINT && reqId === undefined) {
      fail(message.replace(/\s*Please report to \S+$/, ""));
      return;
    }
    emitError(message, code, reqId, advancedOrderReject);
  };
  socket.onEnd = () => {
    if (!broken && pendingBytes > 0) {
      const rest = Buffer.concat(pending, pendingBytes);
      const arrived =
        rest.length < 4
          ? `${rest.length} of the 4 bytes of its length prefix arrived`
          : `${rest.length - 4} of ${rest.readUInt32BE(0)} bytes arrived`;
      problem(507, `the connection closed in the middle of a message (${arrived})`, rest.subarray(4), true);
    }
    endSocket();
  };
  return traffic;
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

/** The first characters of a message, fields separated by "|", for an error to quote. */
function excerpt(payload: Buffer): string {
  const text = payload.toString("utf8", 0, Math.min(payload.length, EXCERPT_CHARS * 4)).replace(/\0/g, "|");
  const visible = text.replace(/[^\x20-\x7e]/g, "?");
  return visible.length > EXCERPT_CHARS ? `${visible.slice(0, EXCERPT_CHARS)}…` : visible;
}
