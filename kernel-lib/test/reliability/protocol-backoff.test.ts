/**
 * A TWS (or another program on its port) that breaks every connection with a malformed message.
 * malformed-frames.test.ts checks that one broken stream is reported and reconnected once; here the
 * same bad message arrives on every connection, as it would from a bad record in the account's
 * download. The library must not reconnect ten times a second for ever: consecutive breaks double the
 * wait (the state's reason says so), a connection that lives a keepalive interval starts the count
 * again, and once the messages are clean the library is connected with the right positions.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ConnectionStatus } from "../../src/connection/connection";
import { ProtocolError } from "../../src/errors";
import type { IB } from "../../src/ib";
import type { ClientRequest } from "../../src/simulator/protocol/messages";
import type { ClientSession } from "../../src/simulator/server/session";
import { Harness, scenario, until } from "../library/helpers";

const CLIENT_ID = 2;
const KEEPALIVE_MS = 1500;
const h = new Harness();
let ib: IB;
const states: Array<ConnectionStatus & { at: number }> = [];
/** What every connection of the library gets when it asks for its positions, if anything. */
let breaking: "malformed" | "cut off" | undefined;

/** An unknown-length frame: the guard drops the connection over it (a ProtocolError 507). */
const BAD_FRAME = Buffer.from([0, 0, 0, 0]);
/** The first bytes of a 100-byte message, then the socket closes: a restart in mid-download. */
const CUT_FRAME = Buffer.from([0, 0, 0, 100, 52, 0]);

function breakConnection(): void {
  if (breaking === "malformed") h.sim.sendRaw(BAD_FRAME, { clientId: CLIENT_ID });
  if (breaking === "cut off") h.sim.sendRaw(CUT_FRAME, { clientId: CLIENT_ID, close: true });
}

beforeAll(async () => {
  await h.start({
    scenario: scenario({
      accounts: [
        { id: "DU7300001", cash: 100_000, positions: [{ contract: "AAPL", quantity: 10, avgCost: 150 }] },
      ],
    }),
  });
  // Every connection of the library gets the bad message as soon as it asks for its positions.
  h.sim.on("request", (session: ClientSession, request: ClientRequest) => {
    if (breaking && request.type === "reqPositions" && session.clientId === CLIENT_ID)
      setImmediate(breakConnection);
  });
  ib = await h.connect({ clientId: CLIENT_ID, keepaliveMs: KEEPALIVE_MS });
  await ib.positions(); // positions are followed from here on: every session downloads them
  ib.on("state", (s) => states.push({ ...s, at: performance.now() }));
});
afterAll(() => h.stop());

/** The waits between each drop and the next connection, from the state events. */
function reconnectWaits(): number[] {
  const waits: number[] = [];
  let droppedAt: number | undefined;
  for (const s of states) {
    if (s.state === "reconnecting" && droppedAt === undefined) droppedAt = s.at;
    if (s.state === "connected" && droppedAt !== undefined) {
      waits.push(s.at - droppedAt);
      droppedAt = undefined;
    }
  }
  return waits;
}

it("every connection broken by a malformed message: the wait doubles, the reason says why, then it recovers", async () => {
  const warnings: ProtocolError[] = [];
  ib.on("warning", (w) => {
    if (w instanceof ProtocolError) warnings.push(w);
  });
  const connectionsBefore = h.connections;
  breaking = "malformed";
  breakConnection();
  // Without the backoff this is ~30 connections (one every 100 ms); with it 100 + 200 + 400 + 800 + 1,600 ms.
  await new Promise((done) => setTimeout(done, 3000));
  const connections = h.connections - connectionsBefore;
  const waits = reconnectWaits();
  console.log(
    `protocol backoff: ${connections} connections in 3 s, waits ${waits.map((ms) => ms.toFixed(0)).join(", ")} ms`,
  );
  expect(connections).toBeGreaterThanOrEqual(4);
  expect(connections).toBeLessThanOrEqual(6);
  // The first connection's break, then one per new connection.
  expect(warnings.length).toBe(connections + 1);
  // Each wait at least the doubled delay (less than it only by timer granularity).
  for (const [i, wait] of waits.entries()) expect(wait).toBeGreaterThanOrEqual(100 * 2 ** i - 5);
  const last = states.filter((s) => s.state === "reconnecting").at(-1);
  expect(last?.reason).toMatch(
    /malformed message from TWS: .+ \(\d connections in a row broke on malformed messages; next attempt in \d+\.\d s\)$/,
  );

  breaking = undefined;
  // The next attempt comes after the last announced wait (at most 3.2 s here) and stays up.
  await until(() => ib.state.state === "connected", 5000, "connected again");
  await new Promise((done) => setTimeout(done, 300));
  expect(ib.state.state).toBe("connected");
  expect((await ib.positions()).map((p) => [p.contract.symbol, p.quantity])).toEqual([["AAPL", 10]]);
});

it("a connection that lived a keepalive interval starts the count again", async () => {
  // The last test left the count high; a healthy interval, then one more break: back to 100 ms.
  await ib.ready(5000);
  await new Promise((done) => setTimeout(done, KEEPALIVE_MS + 100));
  states.length = 0;
  h.sim.sendRaw(BAD_FRAME, { clientId: CLIENT_ID });
  await until(() => reconnectWaits().length === 1, 3000, "the reconnect");
  const [wait] = reconnectWaits();
  expect(wait).toBeLessThan(400);
  expect(states.find((s) => s.state === "reconnecting")?.reason).not.toMatch(/in a row/);
});

it("connections closed in the middle of a message (restarts, cuts) reconnect at the ordinary pace", async () => {
  await ib.ready(5000);
  await new Promise((done) => setTimeout(done, KEEPALIVE_MS + 100));
  states.length = 0;
  const cutOff: ProtocolError[] = [];
  const onWarning = (w: Error) => {
    if (w instanceof ProtocolError && w.cutOff) cutOff.push(w);
  };
  ib.on("warning", onWarning);
  breaking = "cut off";
  breakConnection();
  await until(() => reconnectWaits().length >= 5, 5000, "five reconnects");
  breaking = undefined;
  ib.off("warning", onWarning);
  const waits = reconnectWaits();
  console.log(`cut-off connections: waits ${waits.map((ms) => ms.toFixed(0)).join(", ")} ms`);
  // Each cut is reported, names the cut, and the wait stays the first-attempt delay (no doubling).
  expect(cutOff.length).toBeGreaterThanOrEqual(5);
  expect(cutOff[0]?.what).toMatch(/closed in the middle of a message/);
  expect(Math.max(...waits)).toBeLessThan(400);
  expect(states.some((s) => s.reason?.includes("in a row"))).toBe(false);
  await until(() => ib.state.state === "connected", 3000, "connected again");
  expect((await ib.positions()).map((p) => [p.contract.symbol, p.quantity])).toEqual([["AAPL", 10]]);
});
