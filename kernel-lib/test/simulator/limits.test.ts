/**
 * IB's limits as clients meet them: the message rate (100), market-data lines (101), historical
 * pacing (162), the order-reject throttle (201) and the account-summary cap (322).
 */
import {
  BarSizeSetting,
  type Contract,
  EventName,
  type Order,
  OrderAction,
  OrderType,
  WhatToShow,
} from "@stoqey/ib";
import { afterEach, describe, expect, it } from "vitest";
import { parseScenario, type SimulatorOptions, type TwsSimulator, Universe } from "../../src/simulator";
import { encodeFrame } from "../../src/simulator/protocol";
import { type RecordingClient, sleep, stock } from "../support/ib-client";
import { mktDataRequest, type RawClient, until } from "../support/raw-client";
import { SimFixture } from "../support/sim-fixture";

let sim: TwsSimulator;
const fixture = new SimFixture();

async function startSim(options: SimulatorOptions = {}): Promise<TwsSimulator> {
  sim = await fixture.start(options);
  return sim;
}

const ib = (clientId: number) => fixture.ib(clientId);

const raw = (clientId: number) => fixture.raw(clientId);

async function currentTime(client: RecordingClient): Promise<number> {
  const answer = client.waitForNext(EventName.currentTime);
  client.api.reqCurrentTime();
  const [time] = await answer;
  return time as number;
}

afterEach(async () => {
  await fixture.close();
});

const contract = (symbol: string) => stock(symbol) as unknown as Contract;
const replies = (client: RawClient, id: string) => client.frames.filter((f) => f.fields[0] === id).length;
/** Errors apart from the farm-OK notices every client gets on connecting. */
const FARMS_OK = new Set([2104, 2106, 2158]);
const problems = <E extends { code: number }>(errors: E[]) => errors.filter((e) => !FARMS_OK.has(e.code));

describe("message rate", () => {
  it("answers 50 messages a second per client, drops the rest with one error 100, and spares other clients", async () => {
    await startSim();
    const flooder = await raw(5);
    const bystander = await ib(6);

    // startApi is one of the 50 this second; 80 reqCurrentTime in one burst.
    flooder.write(Buffer.concat(Array.from({ length: 80 }, () => encodeFrame(["49", "1"]))));
    const error = await flooder.waitForError(100);
    expect(error.id).toBe(-1);
    expect(error.message).toMatch(/max=50\b/);
    expect(await currentTime(bystander)).toBeGreaterThan(0);
    await sleep(100);
    expect(replies(flooder, "49")).toBe(50 - 1);
    expect(flooder.errors().filter((e) => e.code === 100)).toHaveLength(1);
    expect(bystander.errors.map((e) => e.code)).not.toContain(100);
    expect(flooder.isClosed).toBe(false);

    // A second later the client is admitted again.
    await sleep(1_000);
    expect(await flooder.currentTime()).toBeGreaterThan(0);
    expect(replies(flooder, "49")).toBe(50);
  });

  it("uses messageRateLimit when one is given", async () => {
    await startSim({ messageRateLimit: 10 });
    const flooder = await raw(5);
    flooder.write(Buffer.concat(Array.from({ length: 20 }, () => encodeFrame(["49", "1"]))));
    const error = await flooder.waitForError(100);
    expect(error.message).toMatch(/max=10\b/);
    await sleep(100);
    expect(replies(flooder, "49")).toBe(10 - 1);
  });
});

describe("market-data lines", () => {
  it("counts streaming lines across clients: the one over the limit gets 101; snapshots hold none; cancel and disconnect free lines", async () => {
    await startSim({ scenario: parseScenario({ marketDataLines: 3 }, new Universe()) });
    const a = await ib(2);
    const b = await ib(3);
    const streaming = (c: RecordingClient, reqId: number) =>
      c.waitFor(EventName.tickPrice, ([id]) => id === reqId).then(() => undefined);

    for (const reqId of [21, 22]) a.api.reqMktData(reqId, contract("MSFT"), "", true, false);
    await Promise.all([21, 22].map((id) => a.waitFor(EventName.tickSnapshotEnd, ([r]) => r === id)));
    expect(sim.linesInUse()).toBe(0);

    a.api.reqMktData(1, contract("AAPL"), "", false, false);
    a.api.reqMktData(2, contract("MSFT"), "", false, false);
    b.api.reqMktData(1, contract("NVDA"), "", false, false);
    await Promise.all([streaming(a, 1), streaming(a, 2), streaming(b, 1)]);

    b.api.reqMktData(2, contract("KO"), "", false, false);
    const full = await b.waitForError(101, 2);
    expect(full.message).toMatch(/Max number of tickers has been reached/);
    expect(b.all(EventName.tickPrice).filter(([id]) => id === 2)).toEqual([]);

    // A snapshot at the limit is still served.
    b.api.reqMktData(23, contract("KO"), "", true, false);
    await b.waitFor(EventName.tickSnapshotEnd, ([r]) => r === 23);
    expect(b.errors.filter((e) => e.reqId === 23)).toEqual([]);

    a.api.cancelMktData(1);
    await until(() => sim.linesInUse() === 2, 2000, "the cancel");
    b.api.reqMktData(3, contract("KO"), "", false, false);
    await streaming(b, 3);
    expect(b.errors.filter((e) => e.reqId === 3)).toEqual([]);

    // A client that goes away gives its lines back.
    a.disconnect();
    await until(() => sim.linesInUse() === 2, 2000, "a's line to be released");
    b.api.reqMktData(4, contract("JPM"), "", false, false);
    await streaming(b, 4);
    b.api.reqMktData(5, contract("JPM"), "", false, false);
    await b.waitForError(101, 5);
    expect(b.decodeErrors).toEqual([]);
  });

  it("allows exactly 100 streaming lines by default", async () => {
    await startSim();
    const symbols = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "JPM", "KO", "SPY", "QQQ", "TLT", "GLD"];
    // Three clients, 34 + 33 + 33 subscriptions, each burst under the 50/s message rate.
    const subscribers = await Promise.all([raw(2), raw(3), raw(4)]);
    let reqId = 0;
    for (const [i, client] of subscribers.entries()) {
      const count = i === 0 ? 34 : 33;
      const frames = Array.from({ length: count }, () => {
        reqId++;
        return encodeFrame(mktDataRequest(reqId, symbols[reqId % symbols.length] as string));
      });
      client.write(Buffer.concat(frames));
    }
    await Promise.all(
      subscribers.map((c, i) =>
        until(() => replies(c, "58") === (i === 0 ? 34 : 33), 2000, "100 subscriptions"),
      ),
    );
    expect(sim.linesInUse()).toBe(100);
    expect(problems(subscribers.flatMap((c) => c.errors()))).toEqual([]);

    const late = await ib(5);
    late.api.reqMktData(101, contract("AAPL"), "", false, false);
    const full = await late.waitForError(101, 101);
    expect(full.message).toMatch(/100/);
    late.api.reqMktData(102, contract("AAPL"), "", true, false);
    await late.waitFor(EventName.tickSnapshotEnd, ([r]) => r === 102);
    expect(sim.linesInUse()).toBe(100);
  });
});

describe("historical-data pacing", () => {
  const history = (client: RecordingClient, reqId: number, symbol: string, duration: string) =>
    client.api.reqHistoricalData(
      reqId,
      contract(symbol),
      "",
      duration,
      BarSizeSetting.MINUTES_ONE,
      WhatToShow.TRADES,
      1,
      1,
      false,
    );
  const finished = (client: RecordingClient, reqId: number) =>
    client.waitFor(
      EventName.historicalData,
      ([id, time]) => id === reqId && String(time).startsWith("finished"),
    );

  it("rejects an identical request within 15 seconds with 162, not a different one", async () => {
    await startSim();
    const client = await ib(2);
    history(client, 1, "AAPL", "1800 S");
    await finished(client, 1);

    history(client, 2, "AAPL", "1800 S");
    const paced = await client.waitForError(162, 2);
    expect(paced.message).toMatch(/pacing violation/i);
    expect(paced.message).toMatch(/identical/i);
    expect(client.all(EventName.historicalData).filter(([id]) => id === 2)).toEqual([]);

    history(client, 3, "AAPL", "3600 S");
    await finished(client, 3);
    expect(client.errors.filter((e) => e.reqId === 3)).toEqual([]);
  });

  it("rejects the sixth request for one contract within two seconds with 162; other contracts and later requests pass", async () => {
    await startSim();
    const client = await ib(2);
    const durations = ["600 S", "1200 S", "1800 S", "2400 S", "3000 S"];
    for (const [i, d] of durations.entries()) history(client, i + 1, "MSFT", d);
    await Promise.all(durations.map((_, i) => finished(client, i + 1)));

    history(client, 6, "MSFT", "3600 S");
    const paced = await client.waitForError(162, 6);
    expect(paced.message).toMatch(/pacing violation/i);
    expect(paced.message).toMatch(/same contract/);

    history(client, 7, "AAPL", "3600 S");
    await finished(client, 7);

    await sleep(2_050);
    history(client, 8, "MSFT", "4200 S");
    await finished(client, 8);
    expect(problems(client.errors).filter((e) => e.reqId !== 6)).toEqual([]);
  });
});

describe("order-reject throttle", () => {
  const limitWithoutPrice: Order = {
    action: OrderAction.BUY,
    orderType: OrderType.LMT,
    totalQuantity: 10,
    transmit: true,
  };
  const valid: Order = { ...limitWithoutPrice, lmtPrice: 100 };

  async function rejectMany(client: RecordingClient, count: number): Promise<number> {
    let id = client.nextValidId;
    for (let i = 0; i < count; i++) client.api.placeOrder(id++, contract("AAPL"), limitWithoutPrice);
    await until(
      () => client.errors.filter((e) => e.code === 201).length === count,
      3000,
      `${count} rejections`,
    );
    return id;
  }

  it("after 20 rejected orders in a minute rejects even a valid order from that client (201, throttled)", async () => {
    await startSim();
    const careless = await ib(2);
    const other = await ib(3);
    const next = await rejectMany(careless, 20);
    expect(careless.errors.every((e) => !/throttl/i.test(e.message))).toBe(true);

    careless.api.placeOrder(next, contract("AAPL"), valid);
    const throttled = await careless.waitForError(201, next);
    expect(throttled.message).toMatch(/throttled/);
    expect(sim.order(2, next)).toBeUndefined();

    // Another client's orders are not throttled.
    other.api.placeOrder(other.nextValidId + 100, contract("AAPL"), valid);
    await other.waitFor(EventName.orderStatus, ([id]) => id === other.nextValidId + 100);
    expect(other.errors.filter((e) => e.code === 201)).toEqual([]);
  });

  it("uses the rejectThrottle option", async () => {
    await startSim({ rejectThrottle: 3 });
    const careless = await ib(2);
    const next = await rejectMany(careless, 3);
    careless.api.placeOrder(next, contract("AAPL"), valid);
    expect((await careless.waitForError(201, next)).message).toMatch(/throttled/);
  });
});

describe("account summary", () => {
  it("allows two concurrent subscriptions per client; the third gets 322 until one is cancelled", async () => {
    await startSim();
    const client = await ib(2);
    const summary = (reqId: number) => client.api.reqAccountSummary(reqId, "All", "NetLiquidation");
    const ended = (reqId: number) => client.waitFor(EventName.accountSummaryEnd, ([r]) => r === reqId);
    summary(1);
    summary(2);
    await Promise.all([ended(1), ended(2)]);

    summary(3);
    const refused = await client.waitForError(322, 3);
    expect(refused.message).toMatch(/account summary/i);
    expect(client.all(EventName.accountSummary).filter(([r]) => r === 3)).toEqual([]);

    client.api.cancelAccountSummary(1);
    summary(4);
    await ended(4);
    expect(client.errors.filter((e) => e.reqId === 4)).toEqual([]);
    expect(client.decodeErrors).toEqual([]);
  });
});
