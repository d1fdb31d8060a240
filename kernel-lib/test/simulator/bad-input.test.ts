/**
 * Bad input over a raw socket: openings that are not a TWS client, versions out of range, unknown
 * ids, malformed fields, oversized frames, and a seeded fuzz. The simulator answers what TWS would,
 * closes only the offending connection when it must, and never crashes; a well-behaved IBApi client
 * next to it keeps getting exact answers. The fuzz prints its seed; FUZZ_SEED=<n> replays one.
 */
import { BarSizeSetting, type Contract, EventName, OrderAction, OrderType, WhatToShow } from "@stoqey/ib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SimulatorOptions, TwsSimulator } from "../../src/simulator";
import { ClientRequestId, encodeClientHello, encodeFrame } from "../../src/simulator/protocol";
import { type RecordingClient, sleep, stock } from "../support/ib-client";
import { mktDataRequest, seededRandom, until } from "../support/raw-client";
import { SimFixture } from "../support/sim-fixture";

let sim: TwsSimulator;
const fixture = new SimFixture();
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

async function startSim(options: SimulatorOptions = {}): Promise<TwsSimulator> {
  sim = await fixture.start(options);
  return sim;
}

const ib = (clientId: number) => fixture.ib(clientId);

const raw = (clientId: number) => fixture.raw(clientId);

const rawOpen = () => fixture.rawOpen();

async function currentTime(client: RecordingClient): Promise<number> {
  const answer = client.waitForNext(EventName.currentTime);
  client.api.reqCurrentTime();
  const [time] = await answer;
  return time as number;
}

beforeEach(() => {
  uncaught.length = 0;
  process.on("uncaughtException", onUncaught);
});

afterEach(async () => {
  await fixture.close();
  process.off("uncaughtException", onUncaught);
  // Whatever a client sent, nothing may escape the simulator's handlers.
  expect(uncaught.map((e) => (e instanceof Error ? (e.stack ?? e.message) : String(e)))).toEqual([]);
});

const AAPL = stock("AAPL") as unknown as Contract;

describe("openings", () => {
  it('closes a connection that does not start with "API\\0", without a word', async () => {
    await startSim();
    const client = await rawOpen();
    client.write(Buffer.from("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    expect(await client.closedWithin(1000)).toBe(true);
    expect(client.bytesReceived).toBe(0);
    await until(() => sim.sessionInfo().length === 0, 1000, "the session to go");
  });

  it("closes a client whose version range is entirely below 157, and serves the next one", async () => {
    await startSim();
    const old = await rawOpen();
    old.write(encodeClientHello(100, 151));
    expect(await old.closedWithin(1000)).toBe(true);
    expect(old.bytesReceived).toBe(0);

    const lowest = await raw(3);
    expect(lowest.serverVersion).toBe(176);
    const exactly157 = await fixture.raw(4, { minVersion: 157, maxVersion: 157 });
    expect(exactly157.serverVersion).toBe(157);
    expect(await exactly157.currentTime()).toBeGreaterThan(0);
  });

  it("refuses requests before startApi with 321 and keeps the connection", async () => {
    await startSim();
    const client = await rawOpen();
    client.write(encodeClientHello(100, 176));
    await client.waitFor((f) => f.length === 2);
    client.send("49", "1");
    const error = await client.waitForError(321);
    expect(error.message).toMatch(/startApi must be the first request/);
    client.send("71", "2", "9", "");
    await client.waitFor((f) => f[0] === "9");
    expect(await client.currentTime()).toBeGreaterThan(0);
  });
});

describe("bad frames", () => {
  it("answers an unknown message id with 321 and stays usable", async () => {
    await startSim();
    const client = await raw(5);
    client.send("999", "1", "hello");
    const error = await client.waitForError(321);
    expect(error.id).toBe(-1);
    expect(error.message).toMatch(/999/);
    expect(await client.currentTime()).toBeGreaterThan(0);
    expect(client.isClosed).toBe(false);
  });

  it("answers a field of the wrong type with 320 naming the field, and stays usable", async () => {
    await startSim();
    const client = await raw(5);
    const bad = mktDataRequest(1, "AAPL");
    bad[2] = "abc";
    client.send(...bad);
    const error = await client.waitForError(320);
    expect(error.message).toMatch(/tickerId/);
    expect(error.message).toMatch(/abc/);
    expect(sim.linesInUse()).toBe(0);

    client.send(...mktDataRequest(1, "AAPL"));
    await client.waitFor((f) => f[0] === "1" && f[2] === "1");
    expect(sim.linesInUse()).toBe(1);
    expect(await client.currentTime()).toBeGreaterThan(0);
  });

  it("answers a request cut short with 320 and stays usable", async () => {
    await startSim();
    const client = await raw(5);
    client.send(...mktDataRequest(1, "AAPL").slice(0, 6));
    expect((await client.waitForError(320)).message).toMatch(/missing|ends early/);
    expect(await client.currentTime()).toBeGreaterThan(0);
  });

  it("closes only the client that announces a frame over 16 MiB", async () => {
    await startSim();
    const bystander = await ib(2);
    const client = await raw(5);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(0x1000000, 0); // 16 MiB, one byte over the limit
    client.write(Buffer.concat([header, Buffer.from("49\u00001\u0000")]));
    expect(await client.closedWithin(1000)).toBe(true);
    expect(client.errors().map((e) => e.code)).toEqual(expect.arrayContaining([507]));
    expect(client.frameIds()).not.toContain("49");

    expect(await currentTime(bystander)).toBeGreaterThan(0);
    expect(bystander.errors.map((e) => e.code)).not.toContain(507);
    expect(sim.clients().map((s) => s.clientId)).toEqual([2]);
  });
});

describe("numbers out of range", () => {
  it("rejects orders with an infinite price or an absurd quantity (201) instead of booking them, and keeps serving", async () => {
    await startSim();
    const client = await ib(2);
    const id = client.nextValidId;
    const lmt = { action: OrderAction.BUY, orderType: OrderType.LMT, totalQuantity: 10, transmit: true };
    client.api.placeOrder(id, AAPL, { ...lmt, lmtPrice: Number.POSITIVE_INFINITY }); // sent as "Infinity"
    client.api.placeOrder(id + 1, AAPL, { ...lmt, orderType: OrderType.MKT, totalQuantity: 1e308 });
    client.api.placeOrder(id + 2, AAPL, { ...lmt, lmtPrice: 1e300 });
    for (const orderId of [id, id + 1, id + 2]) {
      await client.waitForError(201, orderId);
      expect(sim.order(2, orderId)).toBeUndefined();
    }
    sim.refreshAccounts();
    sim.refreshPnl();

    client.api.placeOrder(id + 3, AAPL, { ...lmt, lmtPrice: 100 });
    await client.waitFor(EventName.orderStatus, ([orderId]) => orderId === id + 3);
    expect(await currentTime(client)).toBeGreaterThan(0);
    expect(uncaught).toEqual([]);
    expect(client.decodeErrors).toEqual([]);
  });
});

// ── fuzz ──────────────────────────────────────────────────────────────────────────────────────

const TOKENS = [
  "",
  "0",
  "1",
  "-1",
  "2",
  "11",
  "176",
  "abc",
  "1.5",
  "-0.01",
  "2147483647",
  "-2147483648",
  "9223372036854775807",
  "99999999999999999999999",
  "1.7976931348623157e+308",
  "1e308",
  "1e400",
  "-1e400",
  "1e-400",
  "Infinity",
  "-Infinity",
  "NaN",
  "0x10",
  "1,000",
  " 1",
  "AAPL",
  "MSFT",
  "EUR",
  "ES",
  "STK",
  "CASH",
  "FUT",
  "OPT",
  "BAG",
  "SMART",
  "IDEALPRO",
  "USD",
  "BUY",
  "SELL",
  "MKT",
  "LMT",
  "STP",
  "STP LMT",
  "DAY",
  "GTC",
  "DU1234567",
  "All",
  "NetLiquidation",
  "$LEDGER",
  "1 min",
  "1 day",
  "1 secs",
  "1800 S",
  "2 D",
  "TRADES",
  "MIDPOINT",
  "20250102 10:00:00",
  "20251301 99:99:99",
  "99991231 23:59:59",
  "265598",
  "€ünïcødé",
  "\u0001\u0002",
  "x".repeat(3000),
];

/** Numbers at the edges of what a double or an int holds. */
const NUMBER_EDGES = [
  "0",
  "-0",
  "-1",
  "0.5",
  "1e-400",
  "4.9e-324",
  "1e300",
  "1e308",
  "-1e308",
  "1e400",
  "-1e400",
  "Infinity",
  "-Infinity",
  "NaN",
  "2147483647",
  "2147483648",
  "9223372036854775807",
  "1.7976931348623157e+308",
  "9".repeat(400),
];

const REQUEST_IDS = Object.values(ClientRequestId).map(String);

interface FuzzStats {
  frames: number;
  garbage: number;
  truncated: number;
  oversized: number;
  hellos: number;
  connections: number;
}

function fuzzer(seed: number, corpus: string[][]) {
  const rand = seededRandom(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)] as T;
  const token = (): string => {
    const r = rand();
    if (r < 0.7) return pick(TOKENS);
    if (r < 0.85) return String(int(2_000_000) - 1000);
    return Buffer.from(Array.from({ length: int(12) }, () => 1 + int(255))).toString("latin1");
  };
  const randomFields = (max: number) => Array.from({ length: int(max) }, token);
  const mutate = (frame: string[]): string[] => {
    const f = [...frame];
    switch (int(5)) {
      case 0: // change a few fields
        for (let k = 1 + int(3); k > 0; k--) f[1 + int(Math.max(1, f.length - 1))] = token();
        return f;
      case 1: // drop one
        f.splice(1 + int(Math.max(1, f.length - 1)), 1);
        return f;
      case 2: // insert one, shifting the rest
        f.splice(1 + int(f.length), 0, token());
        return f;
      case 3: // cut short
        return f.slice(0, 1 + int(f.length));
      default: // extra fields at the end
        return [...f, ...randomFields(6)];
    }
  };
  /** Some of the numbers in a frame pushed to their edges. */
  const edges = (frame: string[]): string[] =>
    frame.map((v, i) => (i > 0 && /^-?\d+(\.\d+)?$/.test(v) && rand() < 0.3 ? pick(NUMBER_EDGES) : v));
  return { rand, int, pick, token, randomFields, mutate, edges, corpus };
}

describe("fuzz", () => {
  it("survives 500 random frames from one client while an IBApi client next to it keeps getting exact answers", async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`bad-input fuzz: seed ${seed} (rerun with FUZZ_SEED=${seed})`);
    // The fuzz is about parsing, not the message rate: let every frame through.
    await startSim({ messageRateLimit: 1_000_000 });

    // The witness's own requests, as @stoqey/ib wrote them, are the corpus the fuzz mutates.
    const witness = await ib(2);
    const api = witness.api;
    api.reqMktData(1, AAPL, "", false, false);
    api.reqMktData(2, stock("MSFT") as unknown as Contract, "", true, false);
    api.reqContractDetails(3, AAPL);
    api.reqHistoricalData(4, AAPL, "", "1800 S", BarSizeSetting.MINUTES_ONE, WhatToShow.TRADES, 1, 1, false);
    const id = witness.nextValidId;
    api.placeOrder(id, AAPL, {
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      totalQuantity: 10,
      lmtPrice: 100,
      transmit: true,
    });
    api.placeOrder(id + 1, AAPL, {
      action: OrderAction.SELL,
      orderType: OrderType.MKT,
      totalQuantity: 1,
      transmit: true,
    });
    api.placeOrder(id + 2, AAPL, {
      action: OrderAction.BUY,
      orderType: OrderType.STP,
      totalQuantity: 5,
      auxPrice: 400,
      transmit: true,
    });
    api.placeOrder(id + 3, AAPL, {
      action: OrderAction.SELL,
      orderType: OrderType.STP_LMT,
      totalQuantity: 5,
      lmtPrice: 99,
      auxPrice: 100,
      transmit: true,
    });
    api.placeOrder(id + 4, AAPL, {
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      totalQuantity: 100,
      lmtPrice: 230,
      whatIf: true,
      transmit: true,
    });
    api.reqAccountSummary(5, "All", "NetLiquidation,BuyingPower");
    api.reqPositions();
    api.reqExecutions(6, {});
    api.reqPnL(7, "DU1234567", "");
    api.reqPnLSingle(8, "DU1234567", "", 265598);
    api.reqAccountUpdates(true, "DU1234567");
    api.reqOpenOrders();
    api.reqAllOpenOrders();
    api.reqIds();
    api.reqMarketDataType(3);
    api.reqAccountUpdatesMulti(9, "DU1234567", "", false);
    api.reqCompletedOrders(false);
    api.reqManagedAccts();
    api.cancelMktData(1);
    api.cancelOrder(id + 9);
    api.cancelHistoricalData(4);
    await currentTime(witness);
    const corpus = witness
      .all(EventName.sent)
      .map(([tokens]) => (tokens as unknown[]).map((t) => (t === undefined || t === null ? "" : String(t))))
      .filter((f) => f[0] !== "API\0" && f[0] !== "71");
    expect(corpus.length).toBeGreaterThan(20);

    const f = fuzzer(seed, corpus);
    const stats: FuzzStats = { frames: 0, garbage: 0, truncated: 0, oversized: 0, hellos: 0, connections: 1 };
    let nextId = 3_000_000; // apart from any id the fuzz itself sends in a startApi
    let conn = await raw(nextId++);
    const reconnect = async () => {
      conn.close();
      conn = await raw(nextId++);
      stats.connections++;
    };

    for (let i = 0; i < 500; i++) {
      if (conn.isClosed) await reconnect();
      const r = f.rand();
      if (r < 0.2) {
        conn.send(...f.mutate(f.pick(corpus)));
        stats.frames++;
      } else if (r < 0.35) {
        conn.send(...f.edges(f.pick(corpus)));
        stats.frames++;
      } else if (r < 0.45) {
        conn.send(...f.pick(corpus));
        stats.frames++;
      } else if (r < 0.67) {
        conn.send(f.pick(REQUEST_IDS), ...f.randomFields(f.rand() < 0.2 ? 130 : 20));
        stats.frames++;
      } else if (r < 0.77) {
        conn.send(f.token(), ...f.randomFields(10));
        stats.frames++;
      } else if (r < 0.82) {
        conn.write(f.rand() < 0.5 ? Buffer.alloc(4) : encodeFrame(["", "", ""])); // empty frames
        stats.frames++;
      } else if (r < 0.88) {
        conn.write(Buffer.from(Array.from({ length: 1 + f.int(64) }, () => f.int(256))));
        stats.garbage++;
        await reconnect(); // the stream is out of step now
      } else if (r < 0.94) {
        const frame = encodeFrame(f.mutate(f.pick(corpus)));
        conn.write(frame.subarray(0, 1 + f.int(frame.length - 1)));
        stats.truncated++;
        await reconnect();
      } else if (r < 0.97) {
        const header = Buffer.alloc(4);
        header.writeUInt32BE(0x1000000 + f.int(0xef000000), 0);
        conn.write(header);
        stats.oversized++;
        expect(await conn.closedWithin(1000), `seed ${seed}, step ${i}: oversized frame`).toBe(true);
        await reconnect();
      } else {
        const hello = await rawOpen();
        const kinds = [
          () => encodeClientHello(f.int(300), f.int(300)),
          () => Buffer.concat([Buffer.from("API\0", "latin1"), encodeFrame([f.token()])]),
          () => Buffer.from(Array.from({ length: 1 + f.int(32) }, () => f.int(256))),
          // A good opening, then a startApi with an odd client id, then anything.
          () =>
            Buffer.concat([
              encodeClientHello(100, 176),
              encodeFrame(["71", "2", f.rand() < 0.5 ? f.pick(NUMBER_EDGES) : f.token(), f.token()]),
              encodeFrame(f.mutate(f.pick(corpus))),
            ]),
        ];
        hello.write(f.pick(kinds)());
        stats.hellos++;
        await sleep(1);
        hello.close();
      }
      if (i % 25 === 24) {
        // Let periodic pushes run over whatever state the fuzz created, and check on the witness.
        sim.step();
        sim.refreshAccounts();
        sim.refreshPnl();
        const time = await currentTime(witness);
        expect(Math.abs(time - Date.now() / 1000), `seed ${seed}, step ${i}`).toBeLessThan(5);
      }
    }
    console.log(`bad-input fuzz: seed ${seed}: ${JSON.stringify(stats)}`);

    // The simulator is still whole: the witness gets exact answers, a new client gets in.
    conn.close();
    const details = witness.waitForNext(EventName.contractDetailsEnd, ([r]) => r === 40);
    witness.api.reqContractDetails(40, AAPL);
    await details;
    const found = witness.all(EventName.contractDetails).filter(([r]) => r === 40);
    expect(found.map(([, d]) => (d as { contract: Contract }).contract.conId)).toEqual([265598]);
    expect(await currentTime(witness)).toBeGreaterThan(0);
    const fresh = await raw(nextId++);
    expect(await fresh.currentTime()).toBeGreaterThan(0);
    fresh.close();

    expect(witness.decodeErrors, `seed ${seed}`).toEqual([]);
    expect(witness.api.isConnected).toBe(true);
    expect(
      uncaught.map((e) => (e instanceof Error ? (e.stack ?? e.message) : String(e))),
      `seed ${seed}`,
    ).toEqual([]);
    // Every fuzz connection is gone from the simulator once its socket closed.
    await until(() => sim.sessionInfo().length === 1, 2000, "fuzz sessions to close");
  });
});
