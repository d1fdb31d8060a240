/**
 * Malformed messages from TWS: the other direction of test/simulator/bad-input.test.ts. The simulator
 * writes bytes no TWS should send into the library's own connection (sim.sendRaw): lengths that are
 * zero, negative or beyond 16 MB, messages without their final NUL, text that is not UTF-8, unknown
 * message ids, fields missing, added or garbled, messages cut off by a closed socket, lengths whose
 * bytes never come. Each kind first once, with what it must produce; then a seeded fuzz of a few
 * hundred (FUZZ_SEED=<n> replays one) while an order works and fills. The process must never see an
 * uncaught exception or unhandled rejection (@stoqey/ib alone throws out of its socket handler,
 * spins, or stalls on several of these); each problem is a ProtocolError warning; a broken stream is
 * dropped and reconnected; and afterwards positions equal the simulator's, the order's fills arrived
 * once, and no order was sent twice.
 */
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type IbkrError, ProtocolError } from "../../src/errors";
import type { IB } from "../../src/ib";
import type { Trade } from "../../src/orders/trade";
import { openOrderData, orderStatusData } from "../../src/simulator/model/exchange";
import { seededRandom } from "../../src/simulator/model/market";
import { encodeFrame, MAX_FRAME_LENGTH, ServerMessageEncoder } from "../../src/simulator/protocol";
import type { Position } from "../../src/state/types";
import { Harness, scenario, until } from "../library/helpers";

const CLIENT_ID = 2;
const ACCOUNT = "DU7200001";
const FUZZ_ROUNDS = 45;
/**
 * Connections broken one after another wait longer and longer (protocol-backoff.test.ts); one that
 * lives a keepalive interval starts the count again. Each case here waits that long after its
 * reconnect, so that each is one reconnect after 100 ms.
 */
const KEEPALIVE_MS = 150;
const healthy = () => new Promise((done) => setTimeout(done, KEEPALIVE_MS + 10));
const h = new Harness();
const encoder = new ServerMessageEncoder(176);
let ib: IB;
let order: Trade;

const warnings: IbkrError[] = [];
const positionEvents: Position[] = [];
let reconnects = 0;
/** Whatever reaches the process's last-resort handlers would have killed a notebook kernel. */
const escaped: unknown[] = [];
const onEscape = (error: unknown) => escaped.push(error);

beforeAll(async () => {
  process.on("uncaughtException", onEscape);
  process.on("unhandledRejection", onEscape);
  await h.start({
    scenario: scenario({
      accounts: [
        {
          id: ACCOUNT,
          cash: 1_000_000,
          positions: [
            { contract: "AAPL", quantity: 100, avgCost: 150 },
            { contract: "MSFT", quantity: 50, avgCost: 380 },
          ],
        },
      ],
    }),
  });
  h.sim.setPrice("AAPL", 200);
  ib = await h.connect({ trading: true, clientId: CLIENT_ID, keepaliveMs: KEEPALIVE_MS });
  ib.on("warning", (error) => warnings.push(error));
  ib.on("position", (p) => positionEvents.push(p));
  ib.on("state", (s) => {
    if (s.state === "connected" && s.reason === "reconnected") reconnects++;
  });
  order = await ib.buy("AAPL", 10, { limit: 150 });
});

afterAll(async () => {
  await h.stop();
  process.off("uncaughtException", onEscape);
  process.off("unhandledRejection", onEscape);
});

afterEach(() => {
  expect(escaped.map((e) => (e instanceof Error ? (e.stack ?? e.message) : String(e)))).toEqual([]);
});

const protocolErrors = () => warnings.filter((w): w is ProtocolError => w instanceof ProtocolError);

/** Average costs as the wire carries them (TWS prints doubles; the simulator keeps full precision). */
const rounded = (rows: Array<{ conId: number; quantity: number; avgCost: number }>) =>
  rows.map((r) => ({ ...r, avgCost: Math.round(r.avgCost * 1e4) / 1e4 }));

/** The simulator's book for the account: what `ib.positions()` must show. */
function truth() {
  const book = h.sim.accounts.get(ACCOUNT)?.positions.values() ?? [];
  return rounded(
    [...book]
      .filter((p) => p.quantity !== 0)
      .map((p) => ({ conId: p.instrument.details.contract.conId, quantity: p.quantity, avgCost: p.avgCost }))
      .sort((a, b) => a.conId - b.conId),
  );
}

async function libraryPositions() {
  return rounded(
    (await ib.positions())
      .map((p) => ({ conId: p.contract.conId ?? 0, quantity: p.quantity, avgCost: p.avgCost }))
      .sort((a, b) => a.conId - b.conId),
  );
}

/** A message as the simulator writes it, with the length prefix, fields and NULs given explicitly. */
function rawFrame(payload: Buffer, length = payload.length): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(length >>> 0, 0);
  return Buffer.concat([prefix, payload]);
}

const fieldsOf = (fields: readonly string[]) => Buffer.from(`${fields.join("\0")}\0`, "utf8");
const aaplPosition = (quantity: number) => {
  const data = h.sim.accounts.allPositions().find((p) => p.contract.symbol === "AAPL");
  if (!data) throw new Error("the scenario holds AAPL");
  return encoder.position({ ...data, position: quantity });
};

describe("each kind of malformed message, once", () => {
  const kinds: Array<{
    name: string;
    bytes: () => Buffer;
    code: 505 | 507 | 508;
    says: RegExp;
    drops: boolean;
    close?: boolean;
  }> = [
    {
      name: "an unknown message id is skipped; the connection goes on",
      bytes: () => encodeFrame(["999", "1", "hello"]),
      code: 505,
      says: /message id "999" is not one @stoqey\/ib can decode; skipped/,
      drops: false,
    },
    {
      name: "a length prefix with the top bit set (stoqey reads it as negative; with this message after it, it spins for ever)",
      bytes: () => Buffer.concat([rawFrame(Buffer.alloc(0), 0xffffffff), encodeFrame(aaplPosition(999))]),
      code: 507,
      says: /length prefix announces a message of 4294967295 bytes/,
      drops: true,
    },
    {
      name: "a length beyond 16 MB (stoqey would wait for 16 MB before saying anything)",
      bytes: () => rawFrame(fieldsOf(["49", "1"]), MAX_FRAME_LENGTH + 1),
      code: 507,
      says: /a message of 16777216 bytes/,
      drops: true,
    },
    {
      name: "a length within 16 MB whose bytes never come, before what looks like a message (later answers, the keepalive's too, only extend it)",
      bytes: () => rawFrame(fieldsOf(["49", "1"]), 1_000_000),
      code: 507,
      says: /announces a message of 1000000 bytes; \d+ came in [\d.]+ s in which no message ended/,
      drops: true,
    },
    {
      name: "a length within 16 MB before what is no message (stoqey would wait for the megabyte, each later answer only extending it)",
      bytes: () => rawFrame(Buffer.from("HTTP/1.1 400 Bad Request\r\n"), 1_000_000),
      code: 507,
      says: /announces a message of 1000000 bytes, but what follows does not begin with a message id/,
      drops: true,
    },
    {
      name: "an empty message",
      bytes: () => rawFrame(Buffer.alloc(0)),
      code: 507,
      says: /announces an empty message/,
      drops: true,
    },
    {
      name: "a message without its final NUL (stoqey would glue it to the next one)",
      bytes: () => rawFrame(Buffer.from("49\x001\x001700000000", "utf8")),
      code: 507,
      says: /does not end with a NUL/,
      drops: true,
    },
    {
      name: "text that is not UTF-8",
      bytes: () =>
        rawFrame(
          Buffer.concat([
            Buffer.from(`${aaplPosition(7).slice(0, 3).join("\0")}\0`),
            Buffer.from([0xff, 0xfe, 0]),
          ]),
        ),
      code: 508,
      says: /not valid UTF-8/,
      drops: true,
    },
    {
      name: "an error whose order-reject JSON does not parse (stoqey throws out of its socket handler)",
      bytes: () => encodeFrame(encoder.error(order.orderId, 201, "Order rejected", "{not json")),
      code: 508,
      says: /ERR_MSG \(id 4\) could not be decoded: SyntaxError/,
      drops: true,
    },
    {
      name: "a market rule with a negative count (stoqey throws a RangeError out of its socket handler)",
      bytes: () => encodeFrame(["93", "26", "-1"]),
      code: 508,
      says: /MARKET_RULE \(id 93\) could not be decoded: RangeError: Invalid array length/,
      drops: true,
    },
    {
      name: "a position with its last field missing",
      bytes: () => encodeFrame(aaplPosition(999).slice(0, -1)),
      code: 508,
      says: /POSITION \(id 61\) could not be decoded: Underrun error on POSITION: End of message reached/,
      drops: true,
    },
    {
      name: "a position with a field too many: its numbers never reach the library",
      bytes: () => encodeFrame([...aaplPosition(999), "extra"]),
      code: 508,
      says: /POSITION \(id 61\) could not be decoded: Decoding error on POSITION: unprocessed data left/,
      drops: true,
    },
    {
      name: "a position whose quantity is text (stoqey would hand on NaN without a word)",
      bytes: () => encodeFrame([...aaplPosition(0).slice(0, -2), "lots", "150"]),
      code: 508,
      says: /POSITION \(id 61\) could not be decoded: position: position not a number/,
      drops: true,
    },
    {
      name: "a message cut off by a closed connection",
      bytes: () => encodeFrame(aaplPosition(999)).subarray(0, 20),
      code: 507,
      says: /closed in the middle of a message \(16 of \d+ bytes arrived\)/,
      drops: true,
      close: true,
    },
  ];

  it.each(kinds)("$name", async ({ bytes, code, says, drops, close }) => {
    const warningsBefore = warnings.length;
    const reconnectsBefore = reconnects;
    const connectionsBefore = h.connections;
    expect(h.sim.sendRaw(bytes(), { clientId: CLIENT_ID, close })).toBe(1);

    await until(
      () => protocolErrors().length > 0 && warnings.length > warningsBefore,
      2000,
      "a ProtocolError",
    );
    const error = warnings[warningsBefore] as ProtocolError;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe(code);
    expect(error.what).toMatch(says);
    expect(error.dropsConnection).toBe(drops);
    expect(inspect(error)).toMatch(
      new RegExp(
        `^ProtocolError \\(IB ${code}\\): Malformed message from 127\\.0\\.0\\.1:${h.sim.port}: .+\\n  → .+`,
      ),
    );
    // Cut off by a closing socket (a restart, a network cut) is a drop, not a TWS writing bad bytes.
    expect(error.cutOff).toBe(close === true);
    if (drops) {
      expect(error.todo).toMatch(
        close
          ? /reconnects by itself, as after any dropped connection/
          : /dropped that connection and reconnects/,
      );
      await until(() => reconnects === reconnectsBefore + 1, 3000, "the reconnect");
      await healthy();
    } else {
      expect(error.todo).toMatch(/skipped that message; the connection goes on/);
      expect(ib.state.state).toBe("connected");
    }
    expect(await libraryPositions()).toEqual(truth());
    expect(h.connections).toBe(connectionsBefore + (drops ? 1 : 0));
    expect(positionEvents.some((p) => p.quantity === 999 || Number.isNaN(p.quantity))).toBe(false);
  });
});

describe("a message whose start comes in pieces", () => {
  it("is judged once its first field is in: a length prefix alone, then what is no message", async () => {
    const warningsBefore = warnings.length;
    const reconnectsBefore = reconnects;
    // Whatever comes after the bare prefix (even a keepalive's answer, whose own prefix starts with a
    // zero byte) is no message id.
    expect(h.sim.sendRaw(rawFrame(Buffer.alloc(0), 1_000_000), { clientId: CLIENT_ID })).toBe(1);
    await new Promise((done) => setTimeout(done, 30));
    expect(warnings.length).toBe(warningsBefore); // four bytes say nothing yet
    expect(h.sim.sendRaw(Buffer.from("<html>"), { clientId: CLIENT_ID })).toBe(1);
    await until(() => reconnects === reconnectsBefore + 1, 3000, "the reconnect");
    const error = warnings[warningsBefore] as ProtocolError;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe(507);
    expect(error.what).toMatch(/announces a message of 1000000 bytes, but what follows does not begin/);
    await healthy();
    expect(await libraryPositions()).toEqual(truth());
  });
});

describe("fuzz", () => {
  it(`${FUZZ_ROUNDS} rounds of seeded garbage while an order fills: no crash, reported, reconnected, state right`, async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`malformed-frames fuzz: seed ${seed} (rerun with FUZZ_SEED=${seed})`);
    const random = seededRandom(seed);
    const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
    const garbage = () => {
      const alphabet = "abcXYZ019.-+eE ,;:/\\\"'{}[]éß€🙂\u0001\u007f";
      return Array.from({ length: int(0, 12) }, () => pick([...alphabet])).join("");
    };

    /** Valid messages about this account and its order: what the mutations start from. */
    const corpus = (): string[][] => {
      const simOrder = h.sim.order(CLIENT_ID, order.orderId);
      if (!simOrder) throw new Error("the simulator holds the order");
      return [
        ...h.sim.accounts.allPositions().map((p) => encoder.position(p)),
        encoder.positionEnd(),
        encoder.openOrder(openOrderData(simOrder)),
        encoder.orderStatus(orderStatusData(simOrder)),
        encoder.openOrderEnd(),
        encoder.currentTime(1_700_000_000),
        encoder.error(-1, 2104, "Market data farm connection is OK:usfarm"),
        encoder.error(
          order.orderId,
          399,
          "Warning: your order will not be placed at the exchange until 09:30",
        ),
        encoder.tickPrice(1_999_999_999, 1, 101.5, 100),
        encoder.tickSize(1_999_999_999, 0, 300),
        encoder.accountValue("NetLiquidation", "1000000", "USD", ACCOUNT),
        ["93", "26", "1", "0", "0.01"], // a market rule, which carries a count
      ];
    };

    type Kind =
      | "garbled field"
      | "field dropped"
      | "field added"
      | "unknown id"
      | "not UTF-8"
      | "bad length"
      | "random bytes"
      | "valid";
    const mutate = (kind: Kind): Buffer => {
      const fields = [...pick(corpus())];
      const at = int(1, fields.length - 1);
      switch (kind) {
        case "garbled field":
          fields[at] = garbage();
          return encodeFrame(fields);
        case "field dropped":
          fields.splice(at, int(1, fields.length - at));
          return encodeFrame(fields);
        case "field added":
          fields.splice(at, 0, ...Array.from({ length: int(1, 3) }, garbage));
          return encodeFrame(fields);
        case "unknown id":
          fields[0] = pick([String(int(108, 99_999)), garbage(), "-1", ""]);
          return encodeFrame(fields);
        case "not UTF-8": {
          const payload = fieldsOf(fields);
          const bad = pick([[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]]);
          const cut = int(0, payload.length - 1);
          return rawFrame(Buffer.concat([payload.subarray(0, cut), Buffer.from(bad), payload.subarray(cut)]));
        }
        case "bad length": {
          const payload = fieldsOf(fields);
          const length = pick([
            0,
            MAX_FRAME_LENGTH + int(1, 1000),
            0x80000000 + int(0, 1000),
            0xfffffffc,
            payload.length + int(-8, 8),
          ]);
          return rawFrame(payload, Math.max(0, length));
        }
        case "random bytes":
          return Buffer.from(Array.from({ length: int(1, 64) }, () => int(0, 255)));
        case "valid":
          return encodeFrame(fields);
      }
    };
    // Each round ends with something that breaks the stream for sure, so each round is one reconnect.
    const terminators: Array<{ kind: string; bytes: () => Buffer; close?: boolean }> = [
      {
        kind: "length over 16 MB",
        bytes: () => rawFrame(Buffer.alloc(0), MAX_FRAME_LENGTH + int(1, 2 ** 30)),
      },
      {
        kind: "length with the top bit set",
        bytes: () => rawFrame(Buffer.alloc(0), 0x80000000 + int(0, 2 ** 30)),
      },
      { kind: "empty message", bytes: () => rawFrame(Buffer.alloc(0)) },
      { kind: "no final NUL", bytes: () => rawFrame(fieldsOf(pick(corpus())).subarray(0, -1)) },
      {
        kind: "cut off, then closed",
        bytes: () => encodeFrame(pick(corpus())).subarray(0, int(1, 12)),
        close: true,
      },
    ];
    // Weighted towards what the library decodes and lives with, so that a round reads several frames
    // before one breaks the stream.
    const softKinds: Kind[] = [
      "garbled field",
      "garbled field",
      "garbled field",
      "unknown id",
      "unknown id",
      "valid",
    ];
    softKinds.push("field dropped", "field added", "not UTF-8", "bad length", "random bytes");

    const sent = new Map<string, number>();
    const count = (kind: string) => sent.set(kind, (sent.get(kind) ?? 0) + 1);
    const reconnectsBefore = reconnects;
    const errorsBefore = protocolErrors().length;
    const started = performance.now();
    for (let round = 1; round <= FUZZ_ROUNDS; round++) {
      const frames: Buffer[] = [];
      for (let i = int(3, 10); i > 0; i--) {
        const kind = pick(softKinds);
        count(kind);
        frames.push(mutate(kind));
      }
      const end = pick(terminators);
      count(end.kind);
      frames.push(end.bytes());
      // Halfway through, the order fills in part while garbage flows: the fill must arrive exactly once.
      if (round === Math.ceil(FUZZ_ROUNDS / 2))
        h.sim.fillOrder(CLIENT_ID, order.orderId, { quantity: 4, price: 150 });
      expect(h.sim.sendRaw(Buffer.concat(frames), { clientId: CLIENT_ID, close: end.close })).toBe(1);
      await until(
        () => reconnects === reconnectsBefore + round,
        3000,
        `the reconnect of round ${round} (seed ${seed})`,
      );
      await healthy();
    }
    const elapsedMs = performance.now() - started;

    const errors = protocolErrors().slice(errorsBefore);
    const byCode = new Map<number, number>();
    for (const e of errors) byCode.set(e.code ?? 0, (byCode.get(e.code ?? 0) ?? 0) + 1);
    const framesSent = [...sent.values()].reduce((a, b) => a + b, 0);
    console.log(
      `malformed-frames fuzz: ${framesSent} frames in ${FUZZ_ROUNDS} rounds, ${elapsedMs.toFixed(0)} ms; ` +
        `protocol errors ${[...byCode].map(([c, n]) => `${c}×${n}`).join(", ")}; reconnects ${reconnects - reconnectsBefore}; ` +
        `frames by kind: ${[...sent].map(([k, n]) => `${k} ${n}`).join(", ")}`,
    );

    expect(errors.length).toBeGreaterThanOrEqual(FUZZ_ROUNDS);
    for (const error of errors) {
      expect([505, 507, 508]).toContain(error.code);
      expect(inspect(error)).toMatch(
        /^ProtocolError \(IB 50[578]\): Malformed message from 127\.0\.0\.1:\d+: .+\n {2}→ .+/,
      );
    }
    expect(reconnects - reconnectsBefore).toBe(FUZZ_ROUNDS);

    // Afterwards the state is the simulator's again, and nothing was sent twice.
    await ib.ready(3000);
    expect(await libraryPositions()).toEqual(truth());
    const simOrder = h.sim.order(CLIENT_ID, order.orderId);
    await until(() => order.filled === 4 && order.status === simOrder?.status, 3000, "the order's state");
    expect(order.fills.map((f) => f.execId)).toEqual(
      h.sim.exchange.executions.map((f) => f.execution.execId),
    );
    expect(h.sent("placeOrder", CLIENT_ID).map((o) => o.orderId)).toEqual([order.orderId]);
    const next = await ib.buy("MSFT", 1, { limit: 100 });
    expect(next.orderId).toBeGreaterThan(order.orderId);
    await h.flush(ib);
    expect(h.sent("placeOrder", CLIENT_ID).map((o) => o.orderId)).toEqual([order.orderId, next.orderId]);
  }, 20_000);
});
