/**
 * The few client → server frames the benchmark sends, built with the simulator's own codec so that
 * the bytes are exactly what a TWS client writes (research doc §3.1).
 */
import { simulator } from "ibkr-notebook";

const { encodeClientHello, encodeFrame } = simulator.protocol;

/** "API\0" and the version range @stoqey/ib 1.6.10 offers; the simulator answers 176. */
export const CLIENT_HELLO = encodeClientHello(100, 193);

export function startApi(clientId) {
  return encodeFrame(["71", "2", String(clientId), ""]);
}

/** A streaming quote request by conId alone (the other contract fields blank), 20 fields as at v176. */
export function reqMktData(reqId, conId) {
  const contract = [String(conId), "", "", "", "", "", "", "", "", "", "", ""];
  return encodeFrame(["1", "11", String(reqId), ...contract, "0", "", "0", "0", ""]);
}

/** The first field of a frame payload: the message id, without decoding the rest. */
export function messageId(payload) {
  const end = payload.indexOf(0);
  return payload.toString("latin1", 0, end === -1 ? payload.length : end);
}

/** How many whole frames a buffer of whole frames holds: walks the 4-byte length prefixes. */
export function countFrames(buffer) {
  let frames = 0;
  for (let offset = 0; offset + 4 <= buffer.length; offset += 4 + buffer.readUInt32BE(offset)) frames++;
  return frames;
}
