/**
 * The panels' benchmarks (issues 4 and 6), in real JupyterLab and Chromium with the real tslab
 * kernel, each against a baseline measured in the same run. The simulators run here, in the driver,
 * so that the time of each broker event is known exactly; the notebook's kernel connects to them.
 * One notebook, one kernel, four parts in turn (a part that fails is recorded as failed, the others
 * still run):
 *
 * 1. latency: a fill (sim.fillOrder) → the Orders panel's row shows it, with the hops on the way
 *    (the library in the kernel hears it, the feed snapshot carrying it reaches the page);
 * 2. render: a Positions snapshot of 10,000 positions, from its arrival in the page to the row's DOM
 *    change, against 10 positions and against JSON.parse of the same payload;
 * 3. cells: execute_request → execute_reply of `await ib.positions()` (demo account, 1,000, 10,000
 *    positions) against a trivial cell and `(await ib.positions()).length` on the same kernel;
 * 4. memory: both panels open on a feed that keeps changing (prices ticking every 50 ms, account
 *    updates every 250 ms, an order placed every second, fills), the page's JS heap after a forced GC.
 *
 * The raw samples go to IBKR_BENCH_PANEL_RESULTS (test/bench/panel.mjs summarizes them); the counts
 * and durations come as JSON in IBKR_BENCH_PANEL_CONFIG.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { expect, type IJupyterLabPageFixture, test } from "@jupyterlab/galata";
import type { CDPSession } from "@playwright/test";
import { FEED_MIME_TYPE, simulator, TwsSimulator } from "../../kernel-lib";
import { benchConfig } from "./config";
import { execute, executeJson } from "./kernel";
import { showBothPanels } from "./layout";
import { pageMemory } from "./memory";
import { feedArrivals, feedQuiet, openProbedNotebook, parseTimes, shown, watch } from "./probe";

type SimulatorOptions = simulator.SimulatorOptions;
type Scenario = NonNullable<SimulatorOptions["scenario"]>;
// The benchmarks' synthetic books (test/bench/books.cjs).
const books = require("../../test/bench/books.cjs") as {
  ACCOUNT: string;
  QUIET: SimulatorOptions;
  positionsScenario(count: number, extra?: object): Scenario;
};

const REPO = resolve(__dirname, "..", "..");
const RESULTS = process.env.IBKR_BENCH_PANEL_RESULTS ?? resolve(REPO, "test/bench/results/panel-raw.json");

interface PanelBenchConfig {
  latency: { events: number; warmup: number; quietMs: number };
  render: { sizes: number[]; reps: number; warmup: number; parseReps: number };
  cells: { sizes: number[]; reps: number; warmup: number };
  memory: { positions: number; warmupMs: number; durationMs: number; everyMs: number; maxOrders: number };
}

/** Set by test/bench/panel.mjs (run.mjs holds the counts, full and --quick). */
const CONFIG = benchConfig<PanelBenchConfig>(
  "IBKR_BENCH_PANEL_CONFIG",
  "`npm run bench` or `node test/bench/run.mjs --only panel`",
);

const NOTEBOOK = "bench.ipynb";
const CLIENT_ID = 7;
/** A resting order of the kernel's client, seeded in each scenario; the driver fills it share by share. */
const ORDER_ID = 900;
/** The first position of each book (its first row): the fills add to it. */
const SYMBOL = simulator.syntheticSymbol(1);
const FIRST_QUANTITY = 100;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** A book of `positions` with the resting BUY order on SYMBOL, far under its price. */
function book(positions: number): Scenario {
  return books.positionsScenario(positions, {
    prices: { [SYMBOL]: 100 },
    openOrders: [
      {
        account: books.ACCOUNT,
        clientId: CLIENT_ID,
        orderId: ORDER_ID,
        contract: SYMBOL,
        action: "BUY",
        quantity: 1_000_000,
        orderType: "LMT",
        lmtPrice: 50,
        tif: "GTC",
      },
    ],
  });
}

/** Declared once in the kernel: the connection the parts replace, and when the library heard each fill. */
const KERNEL_SETUP = `import { connect } from "ibkr-notebook";
type Connection = Awaited<ReturnType<typeof connect>>;
let ib = null as unknown as Connection;
const bench = { fills: {} as Record<number, number>, placed: 0, failed: 0, timer: undefined as NodeJS.Timeout | undefined };`;

/** Closes the kernel's connection (if any) and opens one to `port` (the demo account's when null). */
function connectCode(port: number | null, options = ""): string {
  const where = port === null ? `clientId: ${CLIENT_ID}` : `port: ${port}, clientId: ${CLIENT_ID}`;
  return `clearInterval(bench.timer);
ib?.close();
bench.fills = {};
ib = await connect({ ${where}${options} });
ib.on("fill", (fill) => {
  bench.fills[fill.cumQuantity] ??= performance.timeOrigin + performance.now();
});
console.log(JSON.stringify({ positions: (await ib.positions()).length }));`;
}

async function startSimulator(positions: number, clocks: SimulatorOptions = books.QUIET) {
  return TwsSimulator.start({ port: 0, ...clocks, scenario: book(positions) });
}

/** Runs one part; a failure is kept as { error } so that the other parts still run. */
async function part<T>(name: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  const started = now();
  try {
    const result = await fn();
    console.log(`panel bench: ${name} in ${((now() - started) / 1000).toFixed(1)} s`);
    return result;
  } catch (error) {
    console.error(`panel bench: ${name} failed: ${(error as Error)?.stack ?? error}`);
    return { error: String((error as Error)?.message ?? error).split("\n")[0] ?? "failed" };
  }
}

/**
 * Fills one share of the watched order at a time, each once the feed has been quiet for longer than
 * its throttle interval (so each fill meets an idle feed: latency, not coalescing), and waits for
 * `panel` to show it. Returns each fill's event time and DOM time.
 */
async function fillOneByOne(
  page: IJupyterLabPageFixture,
  sim: TwsSimulator,
  count: number,
  quietMs: number,
  panel: "orders" | "positions",
): Promise<Array<{ filled: number; eventAt: number; domAt: number }>> {
  const events = [];
  for (let filled = 1; filled <= count; filled++) {
    await feedQuiet(page, quietMs);
    const eventAt = now();
    sim.fillOrder(CLIENT_ID, ORDER_ID, { quantity: 1 });
    const value = panel === "orders" ? filled : FIRST_QUANTITY + filled;
    events.push({ filled, eventAt, domAt: await shown(page, panel, value) });
  }
  return events;
}

async function measureLatency(page: IJupyterLabPageFixture, path: string) {
  const { events: count, warmup, quietMs } = CONFIG.latency;
  const sim = await startSimulator(10);
  try {
    await executeJson(page, path, connectCode(sim.port));
    await page.sidebar.openTab("jupyterlab-ibkr-orders");
    await watch(page, { orderId: ORDER_ID, symbol: SYMBOL });
    const events = await fillOneByOne(page, sim, warmup + count, quietMs, "orders");
    const arrivals = await feedArrivals(page);
    const heard = await executeJson<Record<string, number>>(
      page,
      path,
      "console.log(JSON.stringify(bench.fills))",
    );
    return events.slice(warmup).map(({ filled, eventAt, domAt }) => {
      const after = arrivals.filter((a) => a.wsAt > eventAt);
      const carrying = after.find((a) => a.filled !== null && a.filled >= filled);
      const since = (at: number | undefined) => (at === undefined || Number.isNaN(at) ? null : at - eventAt);
      return {
        kernelMs: since(heard[filled]),
        firstSnapshotMs: since(after[0]?.wsAt),
        sentMs: since(carrying?.sentAt),
        snapshotMs: since(carrying?.wsAt),
        domMs: domAt - eventAt,
      };
    });
  } finally {
    await sim.close();
  }
}

async function measureRender(page: IJupyterLabPageFixture, path: string) {
  const { sizes, reps, warmup, parseReps } = CONFIG.render;
  await page.sidebar.openTab("jupyterlab-ibkr-positions");
  const results = [];
  for (const positions of sizes) {
    const sim = await startSimulator(positions);
    try {
      const connected = await executeJson<{ positions: number }>(page, path, connectCode(sim.port));
      expect(connected.positions).toBe(positions);
      await watch(page, { orderId: ORDER_ID, symbol: SYMBOL });
      const events = await fillOneByOne(page, sim, warmup + reps, CONFIG.latency.quietMs, "positions");
      const arrivals = await feedArrivals(page);
      const runs = events.slice(warmup).map(({ filled, domAt }) => {
        const snapshot = arrivals.find((a) => a.quantity === FIRST_QUANTITY + filled);
        if (!snapshot) throw new Error(`no snapshot carried quantity ${FIRST_QUANTITY + filled}`);
        expect(snapshot.positions).toBe(positions);
        return { applyMs: domAt - snapshot.wsAt, decodeMs: snapshot.decodedAt - snapshot.wsAt };
      });
      results.push({ positions, runs, parse: await parseTimes(page, parseReps) });
    } finally {
      await sim.close();
    }
  }
  return results;
}

/** The cells timed on each book, with what each shows. */
const CELLS = {
  trivial: "1 + 1",
  count: "(await ib.positions()).length",
  display: "await ib.positions()",
} as const;

async function measureCells(page: IJupyterLabPageFixture, path: string) {
  const { sizes, reps, warmup } = CONFIG.cells;
  const entries: Array<{ name: string; positions: number; port: number | null }> = [
    { name: "demo account", positions: 0, port: null },
    ...sizes.map((positions) => ({
      name: `${positions.toLocaleString("en-US")} positions`,
      positions,
      port: 0,
    })),
  ];
  const results = [];
  for (const entry of entries) {
    const sim = entry.port === null ? null : await startSimulator(entry.positions);
    try {
      const connected = await executeJson<{ positions: number }>(page, path, connectCode(sim?.port ?? null));
      const times: Record<keyof typeof CELLS, number[]> = { trivial: [], count: [], display: [] };
      for (let rep = 0; rep < warmup + reps; rep++) {
        // Rotated each round, so that drift in the machine's load affects the three alike.
        const order = (Object.keys(CELLS) as Array<keyof typeof CELLS>).map(
          (_, i, keys) => keys[(i + rep) % keys.length] as keyof typeof CELLS,
        );
        for (const cell of order) {
          const { ms, stdout } = await execute(page, path, CELLS[cell]);
          if (cell === "display") expect(stdout).toMatch(/positions? in/);
          if (rep >= warmup) times[cell].push(ms);
        }
      }
      results.push({ book: entry.name, positions: connected.positions, times });
    } finally {
      await sim?.close();
    }
  }
  return results;
}

async function heapSample(page: IJupyterLabPageFixture, cdp: CDPSession) {
  const memory = await pageMemory(cdp);
  const snapshots = await page.evaluate(() => window.__ibkrBench.count);
  return { at: now(), ...memory, snapshots };
}

async function measureMemory(page: IJupyterLabPageFixture, path: string) {
  const { positions, warmupMs, durationMs, everyMs, maxOrders } = CONFIG.memory;
  await showBothPanels(page);
  await watch(page, null);
  // Galata's page fixture wraps the Page; CDP wants the Page itself.
  const cdp = await page.context().newCDPSession(page.mainFrame().page());
  const sim = await startSimulator(positions, {
    tickIntervalMs: 50,
    accountUpdateIntervalMs: 250,
    pnlIntervalMs: 250,
  });
  let filling: NodeJS.Timeout | undefined;
  let fills = 0;
  try {
    await executeJson(page, path, `ib?.close();\nconsole.log("{}");`);
    await sleep(500);
    const idle = await heapSample(page, cdp);
    await executeJson(page, path, connectCode(sim.port, ", trading: true"));
    await execute(
      page,
      path,
      `await ib.portfolio();
bench.placed = 0;
bench.failed = 0;
bench.timer = setInterval(() => {
  if (bench.placed >= ${maxOrders}) return;
  bench.placed += 1;
  ib.buy(${JSON.stringify(SYMBOL)}, 1).catch(() => { bench.failed += 1; });
}, 1000);`,
    );
    filling = setInterval(() => {
      sim.fillOrder(CLIENT_ID, ORDER_ID, { quantity: 1 });
      fills += 1;
    }, 500);
    await sleep(warmupMs);
    const samples = [];
    const end = now() + durationMs;
    for (;;) {
      samples.push(await heapSample(page, cdp));
      if (now() >= end) break;
      await sleep(Math.min(everyMs, end - now()));
    }
    clearInterval(filling);
    const orders = await executeJson<{ placed: number; failed: number }>(
      page,
      path,
      "clearInterval(bench.timer);\nconsole.log(JSON.stringify({ placed: bench.placed, failed: bench.failed }));",
    );
    return { positions, idle, samples, orders, fills };
  } finally {
    clearInterval(filling);
    await execute(page, path, "clearInterval(bench.timer);\nib?.close();").catch(() => undefined);
    await sim.close();
    await cdp.detach();
  }
}

test("panel benchmarks", async ({ page, tmpPath }) => {
  test.setTimeout(170_000);
  const path = await openProbedNotebook(page, tmpPath, NOTEBOOK, FEED_MIME_TYPE);
  await execute(page, path, KERNEL_SETUP);

  const started = now();
  const results = {
    date: new Date().toISOString(),
    config: CONFIG,
    latency: await part("latency", () => measureLatency(page, path)),
    render: await part("render", () => measureRender(page, path)),
    cells: await part("cells", () => measureCells(page, path)),
    memory: await part("memory", () => measureMemory(page, path)),
    seconds: 0,
  };
  results.seconds = (now() - started) / 1000;
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(results)}\n`);
});
