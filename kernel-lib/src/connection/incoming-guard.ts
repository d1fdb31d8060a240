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
 * The numbers the library keeps as state (positions, orders, fills), by event, named. TWS sends only
 * numbers there; @stoqey/ib turns text into NaN without a word, so a NaN means a garbled message.
 */
const STATE_NUMBERS: Record<string, (args: unknown[]) => Record<string, unknown>> = {
  [EventName.position]: ([, contract, pos, avgCost]) => ({
    conId: (contract as Fields)?.conId,
    position: pos,
    avgCost,
  }),
  [EventName.updatePortfolio]: ([contract, pos, marketPrice, marketValue, avgCost]) => ({
    conId: (contract as Fields)?.conId,
    position: pos,
    marketPrice,
    marketValue,
    avgCost,
  }),
  [EventName.orderStatus]: ([orderId, , filled, remaining, avgFillPrice, permId]) => ({
    orderId,
    filled,
    remaining,
    avgFillPrice,
    permId,
  }),
  [EventName.openOrder]: ([orderId, contract, order]) => ({
    orderId,
    conId: (contract as Fields)?.conId,
    totalQuantity: (order as Fields)?.totalQuantity,
    permId: (order as Fields)?.permId,
  }),
  [EventName.execDetails]: ([, contract, execution]) => ({
    conId: (contract as Fields)?.conId,
    orderId: (execution as Fields)?.orderId,
    shares: (execution as Fields)?.shares,
    price: (execution as Fields)?.price,
  }),
};

const NONE: readonly string[] = [];

/** The state numbers of an event that are not numbers, named. Runs for every event: allocates only for a bad one. */
function garbledNumbers(eventName: string, args: unknown[]): readonly string[] {
  const pick = STATE_NUMBERS[eventName];
  if (!pick) return NONE;
  const numbers = pick(args);
  let garbled: string[] | undefined;
  for (const name in numbers) {
    if (!Number.isNaN(numbers[name])) continue;
    garbled ??= [];
    garbled.push(name);
  }
  return garbled ?? NONE;
}

/** The parts of @stoqey/ib 1.6.10's IBApi the guard wraps. */
interface StoqeyInternals {
  socket: { onData(data: Buffer): void; onEnd(): void };
  decoder: Record<string, unknown> & { processMsg(msgId: number): void };
  emitError(message: string, code: number, reqId?: number, advancedOrderReject?: unknown): void;
  emitEvent(eventName: string, ...args: unknown[]): void;
}

function internals(api: IBApi): StoqeyInternals {
  const controller = (api as unknown as { controller?: Partial<StoqeyInternals> }).controller;
  if (
    typeof controller?.socket?.onData !== "function" ||
    typeof controller.socket.onEnd !== "function" ||
    typeof controller.decoder?.processMsg !== "function" ||
    typeof controller.emitError !== "function" ||
    typeof controller.emitEvent !== "function"
  ) {
    throw new Error(
      "ibkr-notebook: @stoqey/ib's IBApi is not the one this library was built on (1.6.10); reinstall ibkr-notebook's dependencies.",
    );
  }
  return controller as StoqeyInternals;
}

/** Puts the guard between one IBApi's socket and its decoder, before it connects. */
export function guardIncoming(api: IBApi, host: string, port: number): void {
  const io = internals(api);
  const readFrame = io.socket.onData.bind(io.socket);
  const endSocket = io.socket.onEnd.bind(io.socket);
  const processMsg = io.decoder.processMsg.bind(io.decoder);
  const emitError = io.emitError.bind(io);
  const emitEvent = io.emitEvent.bind(io);

  /** Message ids this decoder has a decodeMsg_ function for, with their names. */
  const decodable = new Map<number, string>();
  for (const [name, id] of Object.entries(IN_MSG_ID)) {
    if (typeof id === "number" && typeof io.decoder[`decodeMsg_${name}`] === "function")
      decodable.set(id, name);
  }

  let buffer: Buffer = Buffer.alloc(0);
  let first = true;
  /** Set once the stream is dropped: nothing more is decoded. */
  let broken = false;
  /** While one message is decoded: what went wrong with it, if anything. */
  let decoding: { problems: string[] } | undefined;

  const report = (error: ProtocolError) => {
    if (error.dropsConnection) {
      broken = true;
      buffer = Buffer.alloc(0);
    }
    api.emit(EventName.error, error, error.code, -1);
  };
  const problem = (code: 505 | 507 | 508, text: string, payload: Buffer, drops: boolean, cause?: unknown) =>
    report(new ProtocolError(code, text, excerpt(payload), drops, host, port, cause));

  io.socket.onData = (data: Buffer) => {
    if (broken) return;
    buffer = buffer.length === 0 ? data : Buffer.concat([buffer, data]);
    while (!broken && buffer.length >= 4) {
      const length = buffer.readUInt32BE(0);
      if (length === 0 || length > MAX_MESSAGE_LENGTH) {
        const size = length === 0 ? "an empty message" : `a message of ${length} bytes`;
        problem(
          507,
          `the length prefix announces ${size} (TWS sends 1 to ${MAX_MESSAGE_LENGTH})`,
          Buffer.alloc(0),
          true,
        );
        return;
      }
      if (buffer.length < 4 + length) return; // the rest is still on its way
      const frame = buffer.subarray(0, 4 + length);
      buffer = buffer.subarray(4 + length);
      const payload = frame.subarray(4);
      if (payload[payload.length - 1] !== 0) {
        problem(
          507,
          "the message does not end with a NUL, so its last field would run into the next message",
          payload,
          true,
        );
        return;
      }
      if (!isUtf8(payload)) {
        problem(508, "the message is not valid UTF-8", payload, true);
        return;
      }
      if (first) {
        first = false; // the server version and connection time: no message id
        readFrame(frame);
        continue;
      }
      const id = messageId(payload);
      const name = id === undefined ? undefined : decodable.get(id);
      if (name === undefined) {
        const idField = payload.toString("utf8", 0, payload.indexOf(0));
        problem(
          505,
          `message id "${idField.slice(0, 20)}" is not one @stoqey/ib can decode; skipped`,
          payload,
          false,
        );
        continue;
      }
      decoding = { problems: [] };
      try {
        readFrame(frame);
      } finally {
        const { problems } = decoding;
        decoding = undefined;
        if (problems.length > 0)
          problem(508, `${name} (id ${id}) could not be decoded: ${problems.join("; ")}`, payload, true);
      }
    }
  };

  // A decoder that throws (a negative count, bad JSON) fails its message, not the process. Running
  // out of fields is @stoqey/ib's own UnderrunError: it handles that itself, and complains (above).
  io.decoder.processMsg = (msgId: number) => {
    try {
      processMsg(msgId);
    } catch (error) {
      if (!decoding || (error as Error).name === "UnderrunError") throw error;
      decoding.problems.push(`${(error as Error).name}: ${(error as Error).message}`);
    }
  };
  io.emitError = (message, code, reqId, advancedOrderReject) => {
    if (decoding && code === DECODER_COMPLAINT && reqId === undefined) {
      decoding.problems.push(message.replace(/\s*Please report to \S+$/, ""));
      return;
    }
    emitError(message, code, reqId, advancedOrderReject);
  };
  // A message that failed to decode emits none of its events: they would carry its garbled fields.
  io.emitEvent = (eventName, ...args) => {
    if (decoding) {
      const garbled = garbledNumbers(eventName, args);
      if (garbled.length > 0) decoding.problems.push(`${eventName}: ${garbled.join(", ")} not a number`);
      if (decoding.problems.length > 0) return;
    }
    emitEvent(eventName, ...args);
  };
  io.socket.onEnd = () => {
    if (!broken && buffer.length > 0) {
      const arrived =
        buffer.length < 4
          ? `${buffer.length} of the 4 bytes of its length prefix arrived`
          : `${buffer.length - 4} of ${buffer.readUInt32BE(0)} bytes arrived`;
      const text = `the connection closed in the middle of a message (${arrived})`;
      report(new ProtocolError(507, text, excerpt(buffer.subarray(4)), true, host, port, undefined, true));
    }
    endSocket();
  };
}

/** The message id (the first field: 1 to 9 digits), read from the bytes; undefined if it is not one. */
function messageId(payload: Buffer): number | undefined {
  let id = 0;
  let i = 0;
  for (; i < payload.length && payload[i] !== 0; i++) {
    const digit = (payload[i] as number) - 48;
    if (digit < 0 || digit > 9 || i === 9) return undefined;
    id = id * 10 + digit;
  }
  return i === 0 ? undefined : id;
}

/** The first characters of a message, fields separated by "|", for an error to quote. */
function excerpt(payload: Buffer): string {
  const text = payload.toString("utf8", 0, Math.min(payload.length, EXCERPT_CHARS * 4)).replace(/\0/g, "|");
  const visible = text.replace(/[^\x20-\x7e]/g, "?");
  return visible.length > EXCERPT_CHARS ? `${visible.slice(0, EXCERPT_CHARS)}…` : visible;
}
