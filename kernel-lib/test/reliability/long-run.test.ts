/**
 * Long run, compressed in time: one hour of streaming at the simulator's default 4 steps a second
 * (14,400 steps) as fast as the library takes it, with 10 tickers, the portfolio's live position
 * updates (account updates every 3 s of simulated time), P&L every second, the JupyterLab feed
 * taking snapshots (its throttle raised with the clock), and an order that fills every two
 * minutes. Orders and fills are kept by design (30 of them here, a few kB). The heap is sampled after a full
 * collection every six simulated minutes; after a warm-up it must not grow by more than BOUND_MB.
 * The library and the simulator share this process, so the bound covers both.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connect, type IB } from "../../src";
import type { FeedPayload } from "../../src/feed/payload";
import { StateFeed } from "../../src/feed/state-feed";
import type { Ticker } from "../../src/market-data/ticker";
import { parseScenario, TwsSimulator, Universe } from "../../src/simulator";

const STEPS = 14_400; // one hour at 4 steps a second (the simulator's default 250 ms clock)
const SAMPLE_EVERY = 1_440; // six simulated minutes
const WARMUP_SAMPLES = 2; // the first 12 simulated minutes: code compiled, maps and buffers at size
const BOUND_MB = 10;
const ACCOUNT = "DU8000001";
const SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "KO", "SPY", "EUR.USD", "ES", "AAPL 270115C250"];

/** A full collection, available without starting Node with --expose-gc. */
function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

let sim: TwsSimulator;
let ib: IB;

beforeAll(async () => {
  sim = await TwsSimulator.start({
    port: 0,
    tickIntervalMs: 0,
    accountUpdateIntervalMs: 0,
    pnlIntervalMs: 0,
    scenario: parseScenario(
      {
        accounts: [
          {
            id: ACCOUNT,
            cash: 1_000_000,
            positions: [
              { contract: "AAPL", quantity: 100, avgCost: 180 },
              { contract: "MSFT", quantity: -20, avgCost: 410 },
              { contract: "ES", quantity: 2, avgCost: 250_000 },
              { contract: "EUR.USD", quantity: 50_000, avgCost: 1.08 },
            ],
          },
        ],
      },
      new Universe(),
    ),
  });
  ib = await connect({ port: sim.port, trading: true, timeoutMs: 2000 });
});
afterAll(async () => {
  ib?.close();
  await sim?.close();
});

it(`streams ${STEPS.toLocaleString("en-US")} steps (one hour at 4/s) with the heap bounded`, {
  timeout: 55_000,
}, async () => {
  const gc = collector();
  const started = performance.now();
  const tickers: Ticker[] = SYMBOLS.map((symbol) => ib.ticker(symbol));
  let updates = 0;
  for (const ticker of tickers) ticker.on("update", () => updates++);
  await ib.portfolio();
  await ib.pnl();
  let positionEvents = 0;
  ib.broker.on("portfolio", () => positionEvents++);
  ib.on("position", () => positionEvents++);
  let snapshots = 0;
  let last: FeedPayload | undefined;
  const feed = new StateFeed(
    ib,
    (payload) => {
      snapshots++;
      last = payload;
      JSON.stringify(payload); // what the tslab channel does with it
    },
    { maxPerSecond: 1000 },
  ).start(); // time is compressed: let snapshots keep up with the changes

  /** Everything the simulator sent so far has been read and handled: one request's round trip. */
  const settle = async () => {
    await ib.contract({ conId: 265598 });
  };
  const heapMB = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed / 2 ** 20;
  };

  const samples: Array<{ step: number; heapMB: number }> = [];
  let orders = 0;
  for (let step = 1; step <= STEPS; step++) {
    sim.step();
    if (step % 12 === 0) sim.refreshAccounts(); // portfolio every 3 s of simulated time
    if (step % 4 === 0) sim.refreshPnl(); // P&L every second
    if (step % 480 === 0) {
      // Every two minutes a small order fills: a live execution and position update.
      const side = orders % 2 === 0 ? "BUY" : "SELL";
      await ib.placeOrder("KO", { side, quantity: 10 });
      orders++;
    }
    // Let the simulator's write and the library's read happen between steps, as on a real clock.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (step % SAMPLE_EVERY === 0) {
      await settle();
      samples.push({ step, heapMB: heapMB() });
    }
  }
  feed.stop();
  for (const ticker of tickers) ticker.stop();
  const seconds = (performance.now() - started) / 1000;

  const steady = samples.slice(WARMUP_SAMPLES - 1);
  const base = steady[0]?.heapMB ?? Number.NaN;
  const growth = Math.max(...steady.map((s) => s.heapMB)) - base;
  console.log(
    [
      `long run: ${STEPS.toLocaleString("en-US")} steps (one simulated hour) in ${seconds.toFixed(1)} s; ${updates.toLocaleString("en-US")} ticker updates, ${positionEvents.toLocaleString("en-US")} position/portfolio updates, ${orders} orders filled, ${snapshots.toLocaleString("en-US")} feed snapshots`,
      `  heap used after a full GC, every ${SAMPLE_EVERY} steps (6 simulated minutes):`,
      `  ${samples.map((s) => `${(s.step / 240).toFixed(0).padStart(2)} min ${s.heapMB.toFixed(2)} MB`).join("\n  ")}`,
      `  growth after the warm-up (${WARMUP_SAMPLES * 6} min): ${growth.toFixed(2)} MB (bound ${BOUND_MB} MB)`,
    ].join("\n"),
  );
  expect(updates).toBeGreaterThan(STEPS); // the tickers really streamed
  expect(positionEvents).toBeGreaterThan(STEPS / 12);
  expect(last?.positions.length).toBeGreaterThan(0);
  expect(samples).toHaveLength(STEPS / SAMPLE_EVERY);
  expect(growth).toBeLessThan(BOUND_MB);
});
