/**
 * The wire codec, byte by byte: framing, the opening handshake, field encodings, version gates of
 * the server messages, and decoding of requests as each real client writes them.
 */
import { describe, expect, it } from "vitest";
import { BUILT_IN_INSTRUMENTS } from "../../src/simulator/model/universe";
import {
  decodeFields,
  encodeClientHello,
  encodeFrame,
  FieldReader,
  FrameReader,
  formatNumber,
  negotiateVersion,
  ProtocolError,
  parseClientHello,
  parseRequest,
  ServerMessageEncoder,
  UnknownRequestError,
} from "../../src/simulator/protocol";

const hex = (b: Buffer) => b.toString("hex");
const nul = (...fields: string[]) => Buffer.from(`${fields.join("\0")}\0`, "utf8");

describe("framing", () => {
  it("prefixes a frame with its big-endian length and terminates every field with NUL", () => {
    const frame = encodeFrame(["9", "1", "1001"]);
    expect(hex(frame)).toBe(`00000009${hex(nul("9", "1", "1001"))}`);
  });

  it("counts UTF-8 bytes, not characters, in the length", () => {
    const frame = encodeFrame(["4", "2", "-1", "2104", "Übersicht €"]);
    expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
    expect(decodeFields(frame.subarray(4))).toEqual(["4", "2", "-1", "2104", "Übersicht €"]);
  });

  it("keeps empty fields, including a trailing one", () => {
    expect(decodeFields(nul("71", "2", "7", ""))).toEqual(["71", "2", "7", ""]);
  });

  it("reassembles frames split across chunks and splits frames sharing a chunk", () => {
    const reader = new FrameReader();
    const bytes = Buffer.concat([
      encodeFrame(["49", "1"]),
      encodeFrame(["61", "1"]),
      encodeFrame(["5", "1"]),
    ]);
    const frames: string[][] = [];
    for (let i = 0; i < bytes.length; i += 3) {
      for (const f of reader.push(bytes.subarray(i, i + 3))) frames.push(decodeFields(f));
    }
    expect(frames).toEqual([
      ["49", "1"],
      ["61", "1"],
      ["5", "1"],
    ]);
    expect(reader.pending).toBe(0);
  });

  it('expects "API\\0" before the first frame, as TWS does, even when it arrives a byte at a time', () => {
    const reader = new FrameReader({ expectApiPrefix: true });
    const hello = encodeClientHello(100, 193);
    expect(hex(hello)).toBe(`41504900${"00000009"}${hex(Buffer.from("v100..193"))}`); // "API\0", length 9, range
    const frames: Buffer[] = [];
    for (const byte of hello) frames.push(...reader.push(Buffer.from([byte])));
    expect(frames.map((f) => f.toString())).toEqual(["v100..193"]);
  });

  it("rejects a stream that does not start like a TWS API client", () => {
    const reader = new FrameReader({ expectApiPrefix: true });
    expect(() => reader.push(Buffer.from("GET / HTTP/1.1\r\n"))).toThrow(ProtocolError);
  });

  it("rejects a frame longer than IB's 16 MiB limit instead of buffering it", () => {
    const reader = new FrameReader();
    expect(() => reader.push(Buffer.from([0x01, 0x00, 0x00, 0x00]))).toThrow(/exceeds/);
  });
});

describe("handshake", () => {
  it("parses the version ranges real clients send", () => {
    expect(parseClientHello(Buffer.from("v100..193"))).toEqual({
      minVersion: 100,
      maxVersion: 193,
      options: "",
    });
    expect(parseClientHello(Buffer.from("v157..178 +PACEAPI"))).toEqual({
      minVersion: 157,
      maxVersion: 178,
      options: "+PACEAPI",
    });
    expect(parseClientHello(Buffer.from("v157"))).toEqual({ minVersion: 157, maxVersion: 157, options: "" });
  });

  it("refuses malformed version strings", () => {
    expect(() => parseClientHello(Buffer.from("v100.200"))).toThrow(/malformed/);
    expect(() => parseClientHello(Buffer.from("v200..100"))).toThrow(/empty/);
  });

  it("answers min(client max, 176) and refuses clients it cannot serve", () => {
    expect(negotiateVersion(100, 193)).toEqual({ ok: true, version: 176 }); // @stoqey/ib
    expect(negotiateVersion(157, 178)).toEqual({ ok: true, version: 176 }); // ib_async
    expect(negotiateVersion(100, 157)).toEqual({ ok: true, version: 157 }); // ibapi 9.81
    expect(negotiateVersion(100, 170)).toEqual({ ok: true, version: 170 });
    expect(negotiateVersion(100, 151)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/at least 157/),
    });
    expect(negotiateVersion(177, 200)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/up to 176/),
    });
  });
});

describe("field encodings", () => {
  it("writes numbers as plain decimal text without binary noise or exponents", () => {
    expect(formatNumber(0.1 + 0.2)).toBe("0.3");
    expect(formatNumber(231.53000000000003)).toBe("231.53");
    expect(formatNumber(100)).toBe("100");
    expect(formatNumber(-12.5)).toBe("-12.5");
    expect(formatNumber(0.0000001)).toBe("0.0000001");
    expect(formatNumber(1.0542)).toBe("1.0542");
    expect(() => formatNumber(Number.NaN)).toThrow(RangeError);
  });

  it("reads every spelling of 'unset' that real clients send as undefined", () => {
    const r = new FieldReader(
      ["x", "", "2147483647", "1.7976931348623157e+308", "9223372036854775807"],
      "test",
    );
    expect([r.optInt("a"), r.optInt("b"), r.optNum("c"), r.optNum("d")]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("names the field and the request when a value has the wrong type", () => {
    const r = new FieldReader(["1", "11", "abc"], "REQ_MKT_DATA");
    r.skip();
    expect(() => r.int("tickerId")).toThrow('REQ_MKT_DATA: field "tickerId" must be an integer, got "abc"');
  });

  it("reads IB booleans as integers, blank as false", () => {
    const r = new FieldReader(["x", "1", "0", "", "2"], "test");
    expect([r.bool("a"), r.bool("b"), r.bool("c"), r.bool("d")]).toEqual([true, false, false, true]);
  });
});

describe("server messages by version", () => {
  const aapl = BUILT_IN_INSTRUMENTS[0];
  if (!aapl) throw new Error("no instruments");

  it("sends sizes as integers below 163 and as decimals from 163 (ibapi 9.81 parses them with int())", () => {
    expect(new ServerMessageEncoder(157).tickPrice(7, 1, 231.52, 300.5, 1)).toEqual([
      "1",
      "3",
      "7",
      "1",
      "231.52",
      "301",
      "1",
    ]);
    expect(new ServerMessageEncoder(163).tickPrice(7, 1, 231.52, 300.5, 1)).toEqual([
      "1",
      "3",
      "7",
      "1",
      "231.52",
      "300.5",
      "1",
    ]);
    expect(new ServerMessageEncoder(162).tickSize(7, 0, 12.5)).toEqual(["2", "6", "7", "0", "13"]);
  });

  it("adds advancedOrderRejectJson to errors from 166 only", () => {
    expect(encodeFrame(new ServerMessageEncoder(165).error(-1, 2104, "ok"))).toEqual(
      encodeFrame(["4", "2", "-1", "2104", "ok"]),
    );
    expect(new ServerMessageEncoder(166).error(-1, 2104, "ok")).toEqual(["4", "2", "-1", "2104", "ok", ""]);
  });

  it("lays out contract details per version: version field and mdSizeMultiplier below 164, size rules from 164", () => {
    const at = (sv: number) => new ServerMessageEncoder(sv).contractDetails(3, aapl.details);
    const v157 = at(157);
    const v163 = at(163);
    const v164 = at(164);
    expect(v157.slice(0, 4)).toEqual(["10", "8", "3", "AAPL"]);
    expect(v164.slice(0, 3)).toEqual(["10", "3", "AAPL"]);
    expect(v163.length).toBe(v157.length + 1); // sizeMinTick at exactly 163
    expect(v164.length).toBe(v157.length - 2 + 3); // no version, no mdSizeMultiplier; minSize, sizeIncrement, suggested
    expect(v164.slice(-4)).toEqual(["COMMON", "1", "1", "100"]);
    // conId, minTick, then (below 164) mdSizeMultiplier before multiplier
    expect(v157.slice(13, 16)).toEqual(["265598", "0.01", "1"]);
    expect(v164.slice(12, 15)).toEqual(["265598", "0.01", ""]);
  });

  it.each([
    [157, 120],
    [158, 121],
    [159, 121],
    [160, 122],
    [162, 123],
    [163, 123],
    [169, 123],
    [170, 128],
    [176, 128],
  ])("writes openOrder with exactly the fields a v%i client reads (%i)", (sv, count) => {
    const fields = new ServerMessageEncoder(sv).openOrder({
      orderId: 12,
      clientId: 2,
      permId: 1800000001,
      parentId: 0,
      contract: aapl.details.contract,
      action: "BUY",
      totalQuantity: 100,
      orderType: "LMT",
      lmtPrice: 230.5,
      auxPrice: undefined,
      tif: "DAY",
      ocaGroup: "",
      account: "DU1234567",
      orderRef: "",
      outsideRth: false,
      goodAfterTime: "",
      goodTillDate: "",
      whatIf: false,
      status: "Submitted",
      state: {},
    });
    expect(fields).toHaveLength(count);
    expect(fields.slice(13, 19)).toEqual(["BUY", "100", "LMT", "230.5", "", "DAY"]);
    expect(fields[24]).toBe("2"); // clientId
    expect(fields[86]).toBe("Submitted");
  });

  it("marks an opening fill's realized P&L as not applicable with DBL_MAX, as TWS does", () => {
    const fields = new ServerMessageEncoder(176).commissionReport({
      execId: "0001.01",
      commission: 1.25,
      currency: "USD",
      realizedPnl: undefined,
    });
    expect(fields).toEqual([
      "59",
      "1",
      "0001.01",
      "1.25",
      "USD",
      "1.7976931348623157E308",
      "1.7976931348623157E308",
      "",
    ]);
  });
});

/** A placeOrder as IB's ibapi 9.81 writes it at 157 (research: tws-versions-157-176.md §3), 110 fields. */
function ibapi157PlaceOrder(orderId: number): string[] {
  const f: string[] = new Array(110).fill("");
  Object.assign(f, {
    0: "3",
    1: String(orderId),
    2: "265598",
    3: "AAPL",
    4: "STK",
    6: "0.0",
    9: "SMART",
    10: "NASDAQ",
    11: "USD",
    16: "BUY",
    17: "100",
    18: "LMT",
    19: "150.5",
    21: "DAY",
    25: "0",
    27: "1",
    28: "0",
    29: "0",
    30: "0",
    31: "0",
    32: "0",
    33: "0",
    34: "0",
    36: "0",
    44: "0",
    46: "-1",
    47: "0",
    50: "0",
    53: "1",
    54: "1",
    56: "0",
    62: "0",
    67: "0",
    78: "0",
    81: "0",
    82: "0",
    85: "0",
    87: "0",
    88: "0",
    89: "0",
    90: "0",
    92: "1.7976931348623157e+308",
    93: "1.7976931348623157e+308",
    94: "1.7976931348623157e+308",
    95: "1.7976931348623157e+308",
    96: "1.7976931348623157e+308",
    97: "0",
    101: "1.7976931348623157e+308",
    106: "0",
    107: "0",
    108: "0",
  });
  return f;
}

describe("client requests", () => {
  it("decodes startApi with and without optional capabilities", () => {
    expect(parseRequest(["71", "2", "7", ""], 176)).toEqual({
      type: "startApi",
      clientId: 7,
      optionalCapabilities: "",
    });
    expect(parseRequest(["71", "2", "0"], 157)).toEqual({
      type: "startApi",
      clientId: 0,
      optionalCapabilities: "",
    });
  });

  it("decodes ibapi 9.81's 110-field placeOrder at 157, unset sentinels included", () => {
    const request = parseRequest(ibapi157PlaceOrder(5), 157);
    expect(request).toMatchObject({
      type: "placeOrder",
      orderId: 5,
      contract: {
        conId: 265598,
        symbol: "AAPL",
        secType: "STK",
        exchange: "SMART",
        primaryExchange: "NASDAQ",
      },
      order: {
        action: "BUY",
        totalQuantity: 100,
        orderType: "LMT",
        lmtPrice: 150.5,
        auxPrice: undefined,
        transmit: true,
      },
    });
  });

  it("holds each version to its placeOrder length: the same order is short at 169", () => {
    expect(() => parseRequest(ibapi157PlaceOrder(5), 169)).toThrow(/duration/);
    const at169 = [...ibapi157PlaceOrder(5), "", "", "0", "", ""];
    expect(parseRequest(at169, 169)).toMatchObject({ type: "placeOrder", orderId: 5 });
  });

  it("skips the variable blocks of placeOrder (algo params, conditions) by IB's rules", () => {
    const f = [...ibapi157PlaceOrder(9), "", "", "0", "", ""];
    f[83] = "Adaptive"; // algoStrategy, followed by a count and tag/value pairs
    f.splice(84, 0, "1", "adaptivePriority", "Normal");
    f[90 + 3] = "1"; // one condition
    f.splice(91 + 3, 0, "1", "a", "1", "230", "265598", "SMART", "0", "0", "0"); // price condition + ignoreRth, cancel
    const request = parseRequest(f, 169);
    expect(request).toMatchObject({
      type: "placeOrder",
      orderId: 9,
      order: { algoStrategy: "Adaptive", conditionCount: 1 },
    });
  });

  it("decodes cancelOrder with manualOrderCancelTime only from 169", () => {
    expect(parseRequest(["4", "1", "12"], 157)).toEqual({
      type: "cancelOrder",
      orderId: 12,
      manualOrderCancelTime: "",
    });
    expect(parseRequest(["4", "1", "12", "20261124 10:00:00"], 169)).toEqual({
      type: "cancelOrder",
      orderId: 12,
      manualOrderCancelTime: "20261124 10:00:00",
    });
  });

  it("decodes reqContractDetails with issuerId only from 176", () => {
    const base = [
      "9",
      "8",
      "4",
      "0",
      "EUR",
      "CASH",
      "",
      "",
      "",
      "",
      "IDEALPRO",
      "",
      "USD",
      "",
      "",
      "0",
      "",
      "",
    ];
    expect(parseRequest(base, 175)).toMatchObject({
      reqId: 4,
      contract: { symbol: "EUR", secType: "CASH" },
      issuerId: "",
    });
    expect(parseRequest([...base, "e123"], 176)).toMatchObject({ reqId: 4, issuerId: "e123" });
  });

  it("reports an unknown request id apart from a malformed request", () => {
    expect(() => parseRequest(["999", "1"], 176)).toThrow(UnknownRequestError);
    expect(() => parseRequest(["abc"], 176)).toThrow(UnknownRequestError);
    expect(() => parseRequest(["1", "11", "notanumber"], 176)).toThrow(/tickerId/);
    expect(() => parseRequest(["62", "1", "5"], 176)).toThrow(/group/);
  });
});
