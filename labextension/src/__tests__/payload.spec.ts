import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CHECKED_FIELDS, FEED_MIME_TYPE, FEED_VERSION, type FeedPosition, parsePayload } from "../payload";
import { payload } from "./fixtures";

describe("parsePayload", () => {
  it("accepts a valid v1 snapshot whole", () => {
    const result = parsePayload(JSON.parse(JSON.stringify(payload())));
    expect(result).toEqual({ ok: true, payload: payload() });
  });

  it("accepts empty books and null prices", () => {
    const p = payload({ positions: [], orders: [], account: [] });
    p.source.port = null;
    p.connection.lastConnectedAt = null;
    expect(parsePayload(p).ok).toBe(true);
  });

  it("tolerates fields added within v1", () => {
    expect(parsePayload({ ...payload(), extra: { anything: 1 } }).ok).toBe(true);
  });

  it("reads a connection without readOnlyApi (a library from before it was added) as false", () => {
    const { readOnlyApi: _, ...older } = payload().connection;
    const result = parsePayload({ ...payload(), connection: older });
    expect(result.ok && result.payload.connection.readOnlyApi).toBe(false);
    const wrong = parsePayload({ ...payload(), connection: { ...older, readOnlyApi: "yes" } });
    expect(wrong).toEqual({
      ok: false,
      error: expect.stringMatching(/connection\.readOnlyApi: expected true or false/),
    });
  });

  it("reads a position without dailyPnl (a library from before it was added) as null", () => {
    const { dailyPnl: _, ...older } = payload().positions[0] as FeedPosition;
    const result = parsePayload({ ...payload(), positions: [older] });
    expect(result.ok && result.payload.positions[0]?.dailyPnl).toBeNull();
    expect(result.ok && result.payload.positions[0]?.quantity).toBe(older.quantity);
  });

  it.each([
    [2, "unsupported feed version number 2"],
    ["1", 'unsupported feed version string "1"'],
    [undefined, "unsupported feed version nothing"],
  ])("rejects version %p, saying which", (v, message) => {
    const result = parsePayload({ ...payload(), v });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });

  it.each<[string, unknown, string]>([
    ["not an object", "hello", "payload: expected an object"],
    ["a list", [payload()], "payload: expected an object"],
    ["no seq", { ...payload(), seq: undefined }, "seq: expected a number"],
    ["positions not a list", { ...payload(), positions: {} }, "positions: expected a list"],
    [
      "a position with a string quantity",
      { ...payload(), positions: [{ ...payload().positions[0], quantity: "100" }] },
      "positions[0].quantity: expected a number",
    ],
    [
      "a position with a string dailyPnl",
      { ...payload(), positions: [{ ...payload().positions[0], dailyPnl: "-3" }] },
      "positions[0].dailyPnl: expected a number or null",
    ],
    [
      "an order without a status",
      { ...payload(), orders: [{ ...payload().orders[0], status: undefined }] },
      "orders[0].status: expected a string",
    ],
    [
      "an unknown connection state",
      { ...payload(), connection: { ...payload().connection, state: "up" } },
      "connection.state",
    ],
    [
      "an unknown broker",
      { ...payload(), source: { ...payload().source, broker: "ibkr-demo" } },
      "source.broker",
    ],
    [
      "accounts not strings",
      { ...payload(), source: { ...payload().source, accounts: [1] } },
      "source.accounts",
    ],
  ])("rejects %s", (_name, data, message) => {
    const result = parsePayload(data);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });
});

describe("the contract with kernel-lib/src/feed/payload.ts", () => {
  const source = readFileSync(join(__dirname, "../../../kernel-lib/src/feed/payload.ts"), "utf8");

  it("has the same MIME type and version", () => {
    expect(source).toContain(`export const FEED_MIME_TYPE = "${FEED_MIME_TYPE}";`);
    expect(source).toContain(`export const FEED_VERSION = ${FEED_VERSION};`);
  });

  it.each(Object.entries(CHECKED_FIELDS))("checks every field of %s", (name, fields) => {
    const body = new RegExp(`export interface ${name} \\{([^}]*)\\}`).exec(source)?.[1];
    expect(body).toBeDefined();
    const declared = [...(body ?? "").matchAll(/^\s*(\w+)\??:/gm)].map((m) => m[1]);
    expect([...fields].sort()).toEqual(declared.sort());
  });
});
