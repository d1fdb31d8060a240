/**
 * TWS framing since server version 100: every message is a 4-byte big-endian length followed by
 * that many bytes of NUL-terminated UTF-8 fields. A connection opens with the bytes "API\0" and one
 * such frame holding the client's version range ("v157..176", optionally followed by options).
 */
import { ProtocolError } from "./fields";

/** Largest frame a TWS client accepts (stoqey's MAX_V100_MESSAGE_LENGTH); we hold clients to it too. */
export const MAX_FRAME_LENGTH = 0xffffff;

export const API_PREFIX = Buffer.from("API\0", "latin1");

/** One frame: a length prefix, then each field followed by a NUL. */
export function encodeFrame(fields: readonly string[]): Buffer {
  const payload = fields.length === 0 ? "" : `${fields.join("\0")}\0`;
  const length = Buffer.byteLength(payload, "utf8");
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  frame.write(payload, 4, "utf8");
  return frame;
}

/** The fields of one frame's payload. The final NUL terminates the last field; it is not a field. */
export function decodeFields(payload: Buffer): string[] {
  const fields = payload.toString("utf8").split("\0");
  if (fields.length > 0 && fields[fields.length - 1] === "") fields.pop();
  return fields;
}

/**
 * Splits a byte stream into frame payloads, across chunk boundaries. Optionally expects the "API\0"
 * prefix first, as a server does.
 */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);
  private awaitingPrefix: boolean;

  constructor(options: { expectApiPrefix?: boolean } = {}) {
    this.awaitingPrefix = options.expectApiPrefix ?? false;
  }

  /** Adds bytes and returns every payload now complete. Throws ProtocolError on a bad stream. */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.awaitingPrefix) {
      const have = Math.min(this.buffer.length, API_PREFIX.length);
      if (!this.buffer.subarray(0, have).equals(API_PREFIX.subarray(0, have))) {
        throw new ProtocolError('connection did not start with "API\\0": not a TWS API client');
      }
      if (have < API_PREFIX.length) return [];
      this.buffer = this.buffer.subarray(API_PREFIX.length);
      this.awaitingPrefix = false;
    }
    const frames: Buffer[] = [];
    let offset = 0;
    while (this.buffer.length - offset >= 4) {
      const length = this.buffer.readUInt32BE(offset);
      if (length > MAX_FRAME_LENGTH) {
        throw new ProtocolError(`frame of ${length} bytes exceeds the ${MAX_FRAME_LENGTH}-byte limit`);
      }
      if (this.buffer.length - offset - 4 < length) break;
      frames.push(this.buffer.subarray(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    this.buffer = offset === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(offset);
    return frames;
  }

  /** Bytes received but not yet part of a complete frame. */
  get pending(): number {
    return this.buffer.length;
  }
}

export interface ClientHello {
  minVersion: number;
  maxVersion: number;
  /** Connect options after the range, e.g. "+PACEAPI". */
  options: string;
}

const VERSION_RANGE = /^v(\d+)(?:\.\.(\d+))?(?:\s+(.*))?$/s;

/** Parses the version frame that follows "API\0": "v100..193", "v157" or "v157..178 +PACEAPI". */
export function parseClientHello(payload: Buffer): ClientHello {
  const text = payload.toString("utf8").replace(/\0+$/, "");
  const match = VERSION_RANGE.exec(text);
  if (!match) throw new ProtocolError(`malformed client version string "${text.slice(0, 40)}"`);
  const minVersion = Number(match[1]);
  const maxVersion = match[2] === undefined ? minVersion : Number(match[2]);
  if (maxVersion < minVersion) {
    throw new ProtocolError(`client version range v${minVersion}..${maxVersion} is empty`);
  }
  return { minVersion, maxVersion, options: match[3] ?? "" };
}

/** The client side of the opening: "API\0" plus the version frame. Used by tests and benchmarks. */
export function encodeClientHello(minVersion: number, maxVersion: number, options = ""): Buffer {
  const range = minVersion === maxVersion ? `v${minVersion}` : `v${minVersion}..${maxVersion}`;
  const text = options ? `${range} ${options}` : range;
  const body = Buffer.from(text, "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length, 0);
  return Buffer.concat([API_PREFIX, length, body]);
}
