/**
 * Faults on command, seen by real clients over real sockets: the daily restart, a half-open
 * gateway, the login / 2FA window, added latency, IB connectivity lost and restored, farm status,
 * and client-id collisions.
 */
import { type Contract, EventName, type Order, OrderAction, OrderType } from "@stoqey/ib";
import { afterEach, describe, expect, it } from "vitest";
import { defaultScenario, type SimulatorOptions, type TwsSimulator } from "../../src/simulator";
import { type RecordingClient, sleep, stock } from "../support/ib-client";
import { mktDataRequest, RawClient, until } from "../support/raw-client";
import { SimFixture } from "../support/sim-fixture";

let sim: TwsSimulator;
const fixture = new SimFixture();

async function startSim(options: SimulatorOptions = {}): Promise<TwsSimulator> {
  sim = await fixture.start(options);
  return sim;
}

const ib = (clientId: number) => fixture.ib(clientId);

const raw = (clientId: number, options?: Parameters<typeof RawClient.connect>[2]) =>
  fixture.raw(clientId, options);

const ibConnecting = (clientId: number) => fixture.ibConnecting(clientId);

async function currentTime(client: RecordingClient, timeoutMs = 2000): Promise<number> {
  const answer = client.waitForNext(EventName.currentTime, () => true, timeoutMs);
  client.api.reqCurrentTime();
  const [time] = await answer;
  return time as number;
}

const AAPL = stock("AAPL") as unknown as Contract;
const MSFT = stock("MSFT") as unknown as Contract;
const order = (action: OrderAction, orderType: OrderType, quantity: number, lmtPrice?: number): Order => ({
  action,
  orderType,
  totalQuantity: quantity,
  lmtPrice,
  transmit: true,
});

afterEach(async () => {
  await fixture.close();
});

describe("daily restart", () => {
  it("drops every client, refuses connections while down, and comes back with positions, orders and executions", async () => {
    const scenario = defaultScenario();
    scenario.accounts[0]?.positions.push({ contract: "MSFT", quantity: 10, avgCost: 300 });
    await startSim({ scenario });
    sim.setPrice("AAPL", 200);
    const trader = await ib(2);
    const watcher = await ib(3);

    const working = trader.nextValidId;
    trader.api.placeOrder(working, AAPL, order(OrderAction.BUY, OrderType.LMT, 10, 150));
    await trader.waitFor(EventName.orderStatus, ([id, status]) => id === working && status === "Submitted");
    const filled = working + 1;
    trader.api.placeOrder(filled, MSFT, order(OrderAction.BUY, OrderType.MKT, 5));
    await trader.waitFor(EventName.orderStatus, ([id, status]) => id === filled && status === "Filled");

    const restarting = sim.restart({ downMs: 600 });
    await Promise.all([trader.closed(), watcher.closed()]);
    expect(sim.clients()).toEqual([]);

    // While the gateway is down, a connect is refused: IBApi reports 502 with the socket error.
    const refused = ibConnecting(4);
    const connectFail = await refused.waitForError(502);
    expect(connectFail.message).toMatch(/ECONNREFUSED/);
    expect(refused.all(EventName.nextValidId)).toEqual([]);

    await restarting;
    const back = await ib(2);
    expect(back.decodeErrors).toEqual([]);

    back.api.reqPositions();
    await back.waitFor(EventName.positionEnd);
    const msft = back.all(EventName.position).find(([, c]) => (c as Contract).symbol === "MSFT");
    expect(msft?.[2]).toBe(15); // 10 from the scenario + 5 bought before the restart

    back.api.reqOpenOrders();
    await back.waitFor(EventName.openOrderEnd);
    expect(back.all(EventName.openOrder).map(([id]) => id)).toEqual([working]);

    back.api.reqExecutions(7, {});
    await back.waitFor(EventName.execDetailsEnd, ([reqId]) => reqId === 7);
    const executions = back.all(EventName.execDetails).filter(([reqId]) => reqId === 7);
    expect(
      executions.map(([, c, e]) => [(c as Contract).symbol, (e as { orderId: number }).orderId]),
    ).toEqual([["MSFT", filled]]);

    // The order that survived still belongs to client 2 and still works: it fills and client 2 hears it.
    sim.setPrice("AAPL", 140);
    await back.waitFor(EventName.orderStatus, ([id, status]) => id === working && status === "Filled");
    expect(back.decodeErrors).toEqual([]);
  });
});

describe("closing during a restart", () => {
  const refused = (port: number) =>
    RawClient.open(port).then(
      (c) => {
        c.close();
        return false;
      },
      (error: NodeJS.ErrnoException) => error.code === "ECONNREFUSED",
    );
  const settlesWithin = (promise: Promise<unknown>, ms: number) =>
    Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);

  it("stays closed, and the restart settles, whether closed while going down or while down", async () => {
    await startSim();
    const first = sim.port;
    const goingDown = sim.restart({ downMs: 200 });
    await sim.close();
    expect(await settlesWithin(goingDown, 1000)).toBe(true);
    await sleep(300); // past the down time: it must not listen again
    expect(await refused(first)).toBe(true);

    await startSim();
    const second = sim.port;
    const down = sim.restart({ downMs: 5_000 });
    await sleep(50);
    await sim.close();
    expect(await settlesWithin(down, 1000)).toBe(true);
    expect(await refused(second)).toBe(true);
  });
});

describe("half-open gateway", () => {
  it("keeps the socket open but answers nothing, while new connections still work", async () => {
    await startSim();
    const frozen = await raw(5);
    expect(await frozen.currentTime()).toBeGreaterThan(0);

    sim.halfOpen();
    const before = frozen.bytesReceived;
    frozen.send("49", "1");
    expect(await frozen.closedWithin(500)).toBe(false);
    expect(frozen.bytesReceived).toBe(before);

    const fresh = await ib(6);
    expect(await currentTime(fresh)).toBeCloseTo(Date.now() / 1000, -1);
    expect(frozen.bytesReceived).toBe(before);
    expect(fresh.decodeErrors).toEqual([]);
  });

  it("freezes only the named client", async () => {
    await startSim();
    const frozen = await raw(5);
    const other = await ib(6);

    sim.halfOpen(5);
    const before = frozen.bytesReceived;
    frozen.send("49", "1");
    expect(await currentTime(other)).toBeGreaterThan(0);
    await sleep(300);
    expect(frozen.bytesReceived).toBe(before);
    expect(frozen.isClosed).toBe(false);
  });
});

describe("login / 2FA window", () => {
  it("completes the handshake but withholds accounts and ids, rejects requests with 322, then lets the client in", async () => {
    await startSim();
    const windowMs = 600;
    const opened = performance.now();
    sim.loginWindow(windowMs);
    const client = await raw(5, { awaitReady: false });
    expect(client.serverVersion).toBe(176);

    const lost = await client.waitForError(1100);
    expect(lost.id).toBe(-1);
    client.send(...mktDataRequest(7, "AAPL"));
    const rejected = await client.waitForError(322);
    expect(rejected).toMatchObject({ id: 7, code: 322 });
    expect(rejected.message).toMatch(/login/i);
    expect(client.frameIds()).not.toContain("15");
    expect(client.frameIds()).not.toContain("9");

    await client.waitFor((f) => f[0] === "9", 2000);
    const ids = client.frameIds();
    const restored = ids.findIndex((id, i) => id === "4" && client.frames[i]?.fields[3] === "1102");
    expect(restored).toBeGreaterThan(-1);
    expect(ids.slice(restored, restored + 3)).toEqual(["4", "15", "9"]);
    expect(client.frames[restored]?.at ?? 0).toBeGreaterThanOrEqual(opened + windowMs - 20);
    expect(client.frames[restored + 1]?.fields[2]).toBe("DU1234567");

    expect(await client.currentTime()).toBeGreaterThan(0);
    expect(client.errors().filter((e) => e.code === 322)).toHaveLength(1);
  });

  it("holds an IBApi client until the window ends, then it is ready and works", async () => {
    await startSim();
    sim.loginWindow(500);
    const client = ibConnecting(2);
    await client.waitFor(EventName.server);
    const notice = await client.waitForError(1100);
    expect(notice.reqId).toBe(-1);
    expect(client.all(EventName.info).some(([, code]) => code === 1100)).toBe(true);
    expect(client.all(EventName.nextValidId)).toEqual([]);

    const [nextId] = await client.waitFor(EventName.nextValidId, () => true, 2000);
    expect(nextId).toBe(1);
    expect(client.all(EventName.info).some(([, code]) => code === 1102)).toBe(true);
    expect(client.all(EventName.managedAccounts)).toEqual([["DU1234567"]]);
    expect(await currentTime(client)).toBeGreaterThan(0);
    expect(client.decodeErrors).toEqual([]);
  });
});

describe("latency", () => {
  it("delays every reply by at least the latency, also one asked for while another is in flight", async () => {
    await startSim();
    const client = await raw(5);
    const latency = 250;
    sim.setLatency(latency);

    const sent: number[] = [];
    sent.push(performance.now());
    client.send("49", "1");
    await sleep(120);
    sent.push(performance.now());
    client.send("49", "1");
    await until(() => client.frames.filter((f) => f.fields[0] === "49").length === 2, 2000, "two replies");
    const replies = client.frames.filter((f) => f.fields[0] === "49").map((f) => f.at);
    expect(replies[0] as number).toBeGreaterThanOrEqual((sent[0] as number) + latency - 5);
    expect(replies[1] as number).toBeGreaterThanOrEqual((sent[1] as number) + latency - 5);

    sim.setLatency(0);
    const t0 = performance.now();
    await client.currentTime();
    expect(performance.now() - t0).toBeLessThan(latency / 2);
  });
});

describe("IB connectivity", () => {
  const ticksFor = (client: RecordingClient, reqId: number) =>
    client.all(EventName.tickPrice).filter(([id]) => id === reqId).length;

  it("reports lost (1100) and restored with data maintained (1102) as id -1 notices; market data keeps streaming", async () => {
    await startSim();
    const client = await ib(2);
    client.api.reqMktData(10, AAPL, "", false, false);
    await client.waitFor(EventName.tickPrice, ([id]) => id === 10);

    sim.connectivityLost();
    const lost = await client.waitForError(1100);
    expect(lost).toMatchObject({ reqId: -1, code: 1100 });
    expect(client.all(EventName.info).map(([, code]) => code)).toContain(1100);

    sim.connectivityRestored();
    await client.waitForError(1102);
    expect(client.all(EventName.info).map(([, code]) => code)).toContain(1102);
    expect(client.all(EventName.error).map(([, code]) => code)).not.toContain(1102);

    const before = ticksFor(client, 10);
    sim.setPrice("AAPL", 211);
    await client.waitForNext(EventName.tickPrice, ([id, , price]) => id === 10 && price === 211);
    expect(ticksFor(client, 10)).toBeGreaterThan(before);
    expect(client.decodeErrors).toEqual([]);
  });

  it("with data lost (1101) stops streaming until the client subscribes again", async () => {
    await startSim();
    const client = await ib(2);
    client.api.reqMktData(10, AAPL, "", false, false);
    await client.waitFor(EventName.tickPrice, ([id]) => id === 10);

    sim.connectivityLost();
    sim.connectivityRestored({ dataLost: true });
    const notice = await client.waitForError(1101);
    expect(notice.reqId).toBe(-1);

    const before = ticksFor(client, 10);
    sim.setPrice("AAPL", 212);
    sim.step(3);
    expect(await currentTime(client)).toBeGreaterThan(0); // everything sent before this has arrived
    expect(ticksFor(client, 10)).toBe(before);
    expect(sim.linesInUse()).toBe(0);

    // Resubscribing with the same ticker id is what a client does after 1101; it must be accepted.
    client.api.reqMktData(10, AAPL, "", false, false);
    await client.waitForNext(EventName.tickPrice, ([id]) => id === 10);
    sim.setPrice("AAPL", 213);
    await client.waitForNext(EventName.tickPrice, ([id, , price]) => id === 10 && price === 213);
    expect(client.errors.filter((e) => e.reqId === 10)).toEqual([]);
    expect(client.decodeErrors).toEqual([]);
  });

  it("announces farms broken (2103/2105/2157) and OK again (2104/2106/2158) without dropping the client", async () => {
    await startSim();
    const client = await ib(2);
    await client.waitForError(2158);
    const codes = () => client.all(EventName.info).map(([, code]) => code as number);
    expect(codes().filter((c) => c === 2104)).toHaveLength(1);

    sim.farmStatus(false);
    await client.waitForError(2157);
    expect(codes()).toEqual(expect.arrayContaining([2103, 2105, 2157]));

    sim.farmStatus(true);
    await until(() => codes().filter((c) => c === 2158).length === 2, 2000, "second 2158");
    expect(codes().filter((c) => c === 2104)).toHaveLength(2);
    expect(codes().filter((c) => c === 2106)).toHaveLength(2);
    expect(client.all(EventName.error)).toEqual([]);
    expect(await currentTime(client)).toBeGreaterThan(0);
  });
});

describe("client ids", () => {
  it("refuses a second connection with an id in use (326) and closes it, while the first keeps working", async () => {
    await startSim();
    const first = await ib(7);

    const second = ibConnecting(7);
    const refused = await second.waitForError(326);
    expect(refused.reqId).toBe(-1);
    expect(refused.message).toMatch(/client id is already in use/);
    await second.closed();
    expect(second.all(EventName.nextValidId)).toEqual([]);

    expect(await currentTime(first)).toBeGreaterThan(0);
    expect(first.errors.map((e) => e.code)).not.toContain(326);
    expect(sim.clients().map((s) => s.clientId)).toEqual([7]);

    // Once the first disconnects, the id is free again.
    first.disconnect();
    await until(() => sim.clients().length === 0, 2000, "the server to see the close");
    const third = await ib(7);
    expect(await currentTime(third)).toBeGreaterThan(0);
    expect(third.errors.map((e) => e.code)).not.toContain(326);
  });
});
