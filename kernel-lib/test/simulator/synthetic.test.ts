/**
 * Synthetic stocks: a scenario's `syntheticStocks` extends the universe with generated US stocks
 * (SYN00001 …) so that it can hold thousands of positions, and reqPositions delivers every one.
 */
import { EventName } from "@stoqey/ib";
import { afterEach, describe, expect, it } from "vitest";
import {
  BUILT_IN_INSTRUMENTS,
  MAX_SYNTHETIC_STOCKS,
  parseScenario,
  ScenarioError,
  SYNTHETIC_CONID_BASE,
  syntheticStocks,
  syntheticSymbol,
  TwsSimulator,
  Universe,
} from "../../src/simulator";
import { RecordingClient } from "../support/ib-client";

const POSITIONS = 2_000;

let sim: TwsSimulator | undefined;
let ib: RecordingClient | undefined;

afterEach(async () => {
  if (ib) expect(ib.decodeErrors).toEqual([]);
  ib?.disconnect();
  await sim?.close();
  ib = undefined;
  sim = undefined;
});

describe("synthetic stocks", () => {
  it("are deterministic US stocks with plausible prices and conIds clear of the built-in ones", () => {
    const stocks = syntheticStocks(1_000);
    expect(syntheticStocks(1_000)).toEqual(stocks);
    expect(stocks.map((s) => s.key).slice(0, 3)).toEqual(["SYN00001", "SYN00002", "SYN00003"]);
    const builtIn = new Set(BUILT_IN_INSTRUMENTS.map((i) => i.details.contract.conId));
    const conIds = new Set(stocks.map((s) => s.details.contract.conId));
    expect(conIds.size).toBe(stocks.length);
    for (const s of stocks) {
      const c = s.details.contract;
      expect(builtIn.has(c.conId)).toBe(false);
      expect(c.conId).toBeGreaterThan(SYNTHETIC_CONID_BASE);
      expect(c.conId).toBeLessThan(2 ** 31);
      expect(c).toMatchObject({ secType: "STK", currency: "USD", exchange: "SMART", symbol: s.key });
      expect(s.price).toBeGreaterThanOrEqual(5);
      expect(s.price).toBeLessThanOrEqual(500);
    }
    // Not all at one price.
    expect(new Set(stocks.map((s) => s.price)).size).toBeGreaterThan(900);
  });

  it("extend the universe only through the scenario field", () => {
    const universe = new Universe();
    expect(universe.get("SYN00001")).toBeUndefined();
    const extended = universe.withSyntheticStocks(3);
    expect(extended.get("syn00003")?.details.contract.conId).toBe(SYNTHETIC_CONID_BASE + 3);
    expect(extended.get("SYN00004")).toBeUndefined();
    expect(extended.instruments).toHaveLength(BUILT_IN_INSTRUMENTS.length + 3);
    // Asking again replaces the synthetic stocks rather than adding more.
    expect(extended.withSyntheticStocks(5).instruments).toHaveLength(BUILT_IN_INSTRUMENTS.length + 5);
    expect(universe.withSyntheticStocks(0)).toBe(universe);
  });

  it("validates the count and names the field", () => {
    const parse = (value: unknown) => () => parseScenario({ syntheticStocks: value }, new Universe());
    expect(parse(-1)).toThrow(/scenario\.syntheticStocks: must be at least 0, got -1/);
    expect(parse(2.5)).toThrow(/scenario\.syntheticStocks: must be a whole number, got 2\.5/);
    expect(parse("100")).toThrow(/scenario\.syntheticStocks: must be a number, got "100"/);
    expect(parse(MAX_SYNTHETIC_STOCKS + 1)).toThrow(
      new RegExp(`scenario\\.syntheticStocks: must be at most ${MAX_SYNTHETIC_STOCKS}`),
    );
    expect(parse(MAX_SYNTHETIC_STOCKS + 1)).toThrow(ScenarioError);
    expect(parseScenario({}, new Universe()).syntheticStocks).toBe(0);
  });

  it("may be named by positions and prices, and only up to the count", () => {
    const scenario = parseScenario(
      {
        syntheticStocks: 10,
        accounts: [{ id: "DU1000001", positions: [{ contract: "SYN00010", quantity: 5, avgCost: 12 }] }],
        prices: { SYN00002: 42 },
      },
      new Universe(),
    );
    expect(scenario.accounts[0]?.positions).toHaveLength(1);
    const beyond = () =>
      parseScenario(
        {
          syntheticStocks: 10,
          accounts: [{ id: "DU1000001", positions: [{ contract: "SYN00011", quantity: 5, avgCost: 12 }] }],
        },
        new Universe(),
      );
    // The error lists the synthetic stocks as one range, not ten names (or ten thousand).
    expect(beyond).toThrow(
      /unknown contract "SYN00011"; the simulator knows AAPL, .*SYN00001…SYN00010 \(synthetic\)$/,
    );
  });

  it(`delivers ${POSITIONS.toLocaleString("en-US")} positions to reqPositions, then positionEnd`, async () => {
    const scenario = parseScenario(
      {
        syntheticStocks: POSITIONS,
        accounts: [
          {
            id: "DU1000001",
            cash: 1_000_000,
            positions: Array.from({ length: POSITIONS }, (_, i) => ({
              contract: syntheticSymbol(i + 1),
              quantity: i % 2 === 0 ? i + 1 : -(i + 1),
              avgCost: (1000 + i) / 100,
            })),
          },
        ],
        prices: { SYN00002: 42 },
      },
      new Universe(),
    );
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, scenario });
    expect(sim.market.quote(SYNTHETIC_CONID_BASE + 2).last).toBe(42);
    ib = await RecordingClient.connect(sim, 2);
    ib.api.reqPositions();
    await ib.waitFor(EventName.positionEnd, () => true, 10_000);
    const rows = ib.all(EventName.position).map(([account, contract, pos, avgCost]) => {
      const c = contract as { conId: number; symbol: string; secType: string; currency: string };
      return [account, c.conId, c.symbol, c.secType, c.currency, pos, avgCost];
    });
    expect(rows).toHaveLength(POSITIONS);
    expect(rows).toEqual(
      Array.from({ length: POSITIONS }, (_, i) => [
        "DU1000001",
        SYNTHETIC_CONID_BASE + i + 1,
        syntheticSymbol(i + 1),
        "STK",
        "USD",
        i % 2 === 0 ? i + 1 : -(i + 1),
        (1000 + i) / 100,
      ]),
    );
  });
});
