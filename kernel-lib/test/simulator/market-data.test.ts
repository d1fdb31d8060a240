/**
 * Market data, contract details and historical bars end to end with @stoqey/ib's IBApi.
 */
import { EventName, SecType } from "@stoqey/ib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TwsSimulator } from "../../src/simulator";
import { TickType } from "../../src/simulator/protocol";
import { RecordingClient, stock } from "../support/ib-client";

let sim: TwsSimulator;
let ib: RecordingClient;

beforeEach(async () => {
  sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, seed: 7 });
  ib = await RecordingClient.connect(sim, 2);
});

afterEach(async () => {
  expect(ib.decodeErrors).toEqual([]);
  ib.disconnect();
  await sim.close();
});

const ticksFor = (reqId: number, type: number) =>
  ib.all(EventName.tickPrice).filter((a) => a[0] === reqId && a[1] === type);

describe("quotes", () => {
  it("streams bid, ask and last with sizes, and moves with the market", async () => {
    ib.api.reqMktData(11, stock("AAPL"), "", false, false);
    await ib.waitFor(EventName.tickPrice, (a) => a[0] === 11 && a[1] === TickType.LAST);
    const quote = sim.market.quote(265598);
    expect(ticksFor(11, TickType.BID)[0]?.[2]).toBe(quote.bid);
    expect(ticksFor(11, TickType.ASK)[0]?.[2]).toBe(quote.ask);
    expect(quote.bid).toBeLessThan(quote.ask);
    await ib.waitFor(
      EventName.tickSize,
      (a) => a[0] === 11 && a[1] === TickType.BID_SIZE && a[2] === quote.bidSize,
    );
    await ib.waitFor(EventName.tickSize, (a) => a[0] === 11 && a[1] === TickType.VOLUME);
    await ib.waitFor(EventName.tickString, (a) => a[0] === 11 && a[1] === TickType.LAST_TIMESTAMP);
    await ib.waitFor(EventName.marketDataType, (a) => a[0] === 11 && a[1] === 1);

    const before = ib.all(EventName.tickPrice).length;
    sim.setPrice("AAPL", quote.last + 1);
    await ib.waitForNext(
      EventName.tickPrice,
      (a) => a[0] === 11 && a[1] === TickType.LAST && a[2] === quote.last + 1,
    );
    expect(ib.all(EventName.tickPrice).length).toBeGreaterThan(before);
  });

  it("ends a snapshot with tickSnapshotEnd and holds no line afterwards", async () => {
    ib.api.reqMktData(12, stock("MSFT"), "", true, false);
    await ib.waitFor(EventName.tickSnapshotEnd, (a) => a[0] === 12);
    expect(ticksFor(12, TickType.LAST)).toHaveLength(1);
    expect(sim.linesInUse()).toBe(0);
    sim.step(3);
    await new Promise((r) => setTimeout(r, 20));
    expect(ticksFor(12, TickType.LAST)).toHaveLength(1);
  });

  it("stops streaming after cancelMktData", async () => {
    ib.api.reqMktData(13, stock("NVDA"), "", false, false);
    await ib.waitFor(EventName.tickPrice, (a) => a[0] === 13);
    expect(sim.linesInUse()).toBe(1);
    ib.api.cancelMktData(13);
    await new Promise((r) => setTimeout(r, 20));
    expect(sim.linesInUse()).toBe(0);
    const count = ib.all(EventName.tickPrice).length;
    sim.step(5);
    await new Promise((r) => setTimeout(r, 20));
    expect(ib.all(EventName.tickPrice).length).toBe(count);
  });

  it("quotes a forex pair, a future and an option from the built-in universe", async () => {
    ib.api.reqMktData(
      14,
      { symbol: "EUR", secType: SecType.CASH, exchange: "IDEALPRO", currency: "USD" },
      "",
      true,
      false,
    );
    ib.api.reqMktData(
      15,
      {
        symbol: "ES",
        secType: SecType.FUT,
        exchange: "CME",
        currency: "USD",
        lastTradeDateOrContractMonth: "202703",
      },
      "",
      true,
      false,
    );
    ib.api.reqMktData(
      16,
      {
        symbol: "AAPL",
        secType: SecType.OPT,
        exchange: "SMART",
        currency: "USD",
        lastTradeDateOrContractMonth: "20270115",
        strike: 250,
        right: "C" as never,
        multiplier: 100,
      },
      "",
      true,
      false,
    );
    for (const reqId of [14, 15, 16]) await ib.waitFor(EventName.tickSnapshotEnd, (a) => a[0] === reqId);
    expect(ticksFor(14, TickType.LAST)[0]?.[2]).toBeCloseTo(1.0542, 1);
    expect(ticksFor(15, TickType.LAST)[0]?.[2]).toBeGreaterThan(1000);
    expect(ticksFor(16, TickType.LAST)[0]?.[2]).toBeGreaterThan(0);
  });

  it("answers an unknown contract with 200", async () => {
    ib.api.reqMktData(17, stock("ZZZZ"), "", false, false);
    expect((await ib.waitForError(200, 17)).message).toBe(
      "No security definition has been found for the request",
    );
  });
});

describe("contract details", () => {
  it("describes a stock with IB's fields", async () => {
    ib.api.reqContractDetails(21, stock("AAPL"));
    const [, details] = await ib.waitFor(EventName.contractDetails, (a) => a[0] === 21);
    await ib.waitFor(EventName.contractDetailsEnd, (a) => a[0] === 21);
    expect(details).toMatchObject({
      contract: { conId: 265598, symbol: "AAPL", secType: "STK", primaryExch: "NASDAQ", currency: "USD" },
      longName: "Apple Inc",
      minTick: 0.01,
      stockType: "COMMON",
      timeZoneId: "US/Eastern",
    });
  });

  it("lists every match of a partial contract, and an ETF says so", async () => {
    ib.api.reqContractDetails(22, { symbol: "AAPL" });
    await ib.waitFor(EventName.contractDetailsEnd, (a) => a[0] === 22);
    const secTypes = ib
      .all(EventName.contractDetails)
      .filter((a) => a[0] === 22)
      .map((a) => (a[1] as { contract: { secType: string } }).contract.secType);
    expect(secTypes.sort()).toEqual(["OPT", "STK"]);
    ib.api.reqContractDetails(23, stock("SPY"));
    const [, spy] = await ib.waitFor(EventName.contractDetails, (a) => a[0] === 23);
    expect(spy).toMatchObject({ stockType: "ETF" });
  });

  it("finds a future by month and reports its multiplier and expiry", async () => {
    ib.api.reqContractDetails(24, {
      symbol: "ES",
      secType: SecType.FUT,
      exchange: "CME",
      lastTradeDateOrContractMonth: "202703",
    });
    const [, es] = await ib.waitFor(EventName.contractDetails, (a) => a[0] === 24);
    expect(es).toMatchObject({
      contract: { localSymbol: "ESH7", multiplier: 50 },
      realExpirationDate: "20270319",
    });
  });

  it("answers an unknown contract with 200", async () => {
    ib.api.reqContractDetails(25, stock("ZZZZ"));
    await ib.waitForError(200, 25);
  });
});

describe("historical bars", () => {
  const finished = (reqId: number) => (a: unknown[]) => a[0] === reqId && String(a[1]).startsWith("finished");
  const bars = (reqId: number) =>
    ib.all(EventName.historicalData).filter((a) => a[0] === reqId && !String(a[1]).startsWith("finished"));

  it("returns daily bars on weekdays that end at the current close", async () => {
    ib.api.reqHistoricalData(31, stock("AAPL"), "", "1 M", "1 day" as never, "TRADES" as never, 1, 1, false);
    await ib.waitFor(EventName.historicalData, finished(31));
    const rows = bars(31);
    expect(rows.length).toBeGreaterThanOrEqual(20);
    expect(rows.length).toBeLessThanOrEqual(23);
    for (const [, time, open, high, low, close, volume] of rows) {
      expect(String(time)).toMatch(/^\d{8}$/);
      expect(
        new Date(
          `${String(time).slice(0, 4)}-${String(time).slice(4, 6)}-${String(time).slice(6)}`,
        ).getUTCDay(),
      ).not.toBe(0);
      expect(high as number).toBeGreaterThanOrEqual(Math.max(open as number, close as number));
      expect(low as number).toBeLessThanOrEqual(Math.min(open as number, close as number));
      expect(volume as number).toBeGreaterThan(0);
    }
    expect(rows.at(-1)?.[5]).toBe(sim.market.quote(265598).close);
  });

  it("returns intraday bars as epoch seconds with formatDate 2, one per bar size", async () => {
    ib.api.reqHistoricalData(
      32,
      stock("MSFT"),
      "",
      "3600 S",
      "5 mins" as never,
      "TRADES" as never,
      1,
      2,
      false,
    );
    await ib.waitFor(EventName.historicalData, finished(32));
    const times = bars(32).map((a) => Number(a[1]));
    expect(times).toHaveLength(12);
    expect((times[1] as number) - (times[0] as number)).toBe(300);
  });

  it("gives the same bars for the same seed", async () => {
    ib.api.reqHistoricalData(
      33,
      stock("NVDA"),
      "20261120 16:00:00",
      "5 D",
      "1 hour" as never,
      "MIDPOINT" as never,
      1,
      2,
      false,
    );
    await ib.waitFor(EventName.historicalData, finished(33));
    const other = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, seed: 7 });
    const ib2 = await RecordingClient.connect(other, 2);
    ib2.api.reqHistoricalData(
      33,
      stock("NVDA"),
      "20261120 16:00:00",
      "5 D",
      "1 hour" as never,
      "MIDPOINT" as never,
      1,
      2,
      false,
    );
    await ib2.waitFor(EventName.historicalData, finished(33));
    const rows2 = ib2.all(EventName.historicalData).filter((a) => !String(a[1]).startsWith("finished"));
    expect(rows2).toEqual(bars(33));
    ib2.disconnect();
    await other.close();
  });

  it("explains an invalid bar size and refuses TRADES for forex as IB does", async () => {
    ib.api.reqHistoricalData(34, stock("AAPL"), "", "1 D", "7 mins" as never, "TRADES" as never, 1, 1, false);
    expect((await ib.waitForError(321, 34)).message).toMatch(/bar size setting is invalid/);
    ib.api.reqHistoricalData(
      35,
      { symbol: "EUR", secType: SecType.CASH, exchange: "IDEALPRO", currency: "USD" },
      "",
      "1 D",
      "1 hour" as never,
      "TRADES" as never,
      1,
      1,
      false,
    );
    expect((await ib.waitForError(162, 35)).message).toMatch(
      /No historical market data for EUR\/CASH@IDEALPRO TRADES/,
    );
  });

  it("keeps a keepUpToDate request streaming bar updates", async () => {
    ib.api.reqHistoricalData(36, stock("AAPL"), "", "1 D", "1 min" as never, "TRADES" as never, 1, 2, true);
    await ib.waitFor(EventName.historicalData, finished(36));
    sim.step();
    const [, time, , , , close] = await ib.waitFor(EventName.historicalDataUpdate, (a) => a[0] === 36);
    expect(Number(time) % 60).toBe(0);
    expect(close).toBe(sim.market.quote(265598).last);
    ib.api.cancelHistoricalData(36);
  });
});

describe("time", () => {
  it("answers reqCurrentTime with the server's epoch seconds", async () => {
    ib.api.reqCurrentTime();
    const [time] = await ib.waitFor(EventName.currentTime);
    expect(Math.abs((time as number) - Date.now() / 1000)).toBeLessThan(5);
  });
});
