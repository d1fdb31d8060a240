/**
 * One simulated hour of streaming, compressed in time, with memory sampled in the page and in the
 * kernel (the hardening issue's long run). Both panels open in real JupyterLab and Chromium, one
 * notebook on the real tslab kernel connected with `feedMaxPerSecond` 20 times the default 4/s, to an
 * ibkr-sim started here with its clocks 20 times as fast, a book of positions with P&L on each, and
 * orders that keep being placed, filled and cancelled (done today fills up, hundreds of rows). The
 * stream lasts `snapshots / feedMaxPerSecond` seconds: an hour at 20×, in which the feed may send the
 * `snapshots` an hour holds at the default cap (14,400).
 *
 * The page samples itself at the start (after a warm-up), every `everyMs`, and at the end: its JS heap
 * after a forced GC, its DOM nodes and event listeners, the done-today section's rows in the DOM, the
 * snapshots it has had and how long ago the kernel sent the last (the lag, when the page takes them
 * more slowly than the kernel sends), and the kernel's RSS (/proc). The kernel's heap after a full
 * collection is read by cells, which wait behind the kernel's output: at the start, and at the end,
 * once the stream has stopped and the page has taken every snapshot.
 *
 * The counts and clocks come as JSON in IBKR_BENCH_HOUR_CONFIG (test/bench/run.mjs); the raw
 * samples go to IBKR_BENCH_HOUR_RESULTS (test/bench/page-hour.mjs summarizes them).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { expect, type IJupyterLabPageFixture, test } from "@jupyterlab/galata";
import { FEED_MIME_TYPE, simulator, TwsSimulator } from "../../kernel-lib";
import { benchConfig } from "./config";
import { execute, executeJson } from "./kernel";
import { showBothPanels } from "./layout";
import { KERNEL_MEMORY_SETUP, type KernelMemory, kernelMemory, pageMemory, processRssBytes } from "./memory";
import { openProbedNotebook, watch } from "./probe";

type SimulatorOptions = simulator.SimulatorOptions;
type Scenario = NonNullable<SimulatorOptions["scenario"]>;
// The benchmarks' synthetic books (test/bench/books.cjs).
const books = require("../../test/bench/books.cjs") as {
  positionsScenario(count: number, extra?: object): Scenario;
};

interface HourBenchConfig {
  positions: number;
  /** The feed's cap in the kernel: 20 × the default 4/s. */
  feedMaxPerSecond: number;
  /** The simulator's clocks, sped up. */
  clocks: Pick<SimulatorOptions, "tickIntervalMs" | "accountUpdateIntervalMs" | "pnlIntervalMs">;
  /** Snapshots in an hour at the default cap (14,400): the stream lasts snapshots / feedMaxPerSecond. */
  snapshots: number;
  /** Orders placed and cancelled first, so that done today is past one screen from the start. */
  seedOrders: number;
  /**
   * The kernel's order flow: each tick cancels the resting limit order, then places a market order
   * or a new limit order, in turn.
   */
  orderEveryMs: number;
  /** Streaming before the first sample. */
  warmupMs: number;
  /** Between samples. */
  everyMs: number;
  /** The test's own timeout. */
  timeoutMs: number;
}

const CONFIG = benchConfig<HourBenchConfig>(
  "IBKR_BENCH_HOUR_CONFIG",
  "`npm run bench` or `node test/bench/run.mjs --only panel`",
);
const RESULTS =
  process.env.IBKR_BENCH_HOUR_RESULTS ?? resolve(__dirname, "../../test/bench/results/page-hour-raw.json");

const NOTEBOOK = "hour.ipynb";
const CLIENT_ID = 7;
/** The stock the orders trade: priced at 100, its limit orders rest at 50. */
const SYMBOL = simulator.syntheticSymbol(1);

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

const KERNEL_SETUP = `${KERNEL_MEMORY_SETUP}
import { connect } from "ibkr-notebook";
type Connection = Awaited<ReturnType<typeof connect>>;
type Trade = Awaited<ReturnType<Connection["buy"]>>;
let ib = null as unknown as Connection;
const flow = { ticks: 0, failed: 0, resting: undefined as Trade | undefined, timer: undefined as NodeJS.Timeout | undefined };
console.log(JSON.stringify({ pid: process.pid }));`;

function connectCode(port: number): string {
  return `ib = await connect({ port: ${port}, clientId: ${CLIENT_ID}, trading: true, feedMaxPerSecond: ${CONFIG.feedMaxPerSecond} });
await ib.portfolio();
await ib.pnl();
await ib.positionPnl();
for (let i = 0; i < ${CONFIG.seedOrders}; i++) await ib.cancelOrder(await ib.buy(${JSON.stringify(SYMBOL)}, 1, { limit: 50 }));
console.log(JSON.stringify({ positions: ib.broker.positions.size, orders: ib.broker.orders.size }));`;
}

const FLOW_START = `flow.timer = setInterval(() => {
  flow.ticks += 1;
  const failed = () => { flow.failed += 1; };
  if (flow.resting) ib.cancelOrder(flow.resting).catch(failed);
  flow.resting = undefined;
  if (flow.ticks % 2 === 0) ib.buy(${JSON.stringify(SYMBOL)}, 1).catch(failed);
  else ib.buy(${JSON.stringify(SYMBOL)}, 1, { limit: 50 }).then((trade) => { flow.resting = trade; }, failed);
}, ${CONFIG.orderEveryMs});`;

/** Ends the stream (the feed's last snapshot goes out on close); done once the page has taken it all. */
const FLOW_STOP = `clearInterval(flow.timer);
{
  const statuses: Record<string, number> = {};
  for (const order of ib.broker.orders.values()) statuses[order.status] = (statuses[order.status] ?? 0) + 1;
  ib.close();
  console.log(JSON.stringify({ orders: ib.broker.orders.size, statuses, failed: flow.failed, kernel: kernelMemoryNow() }));
}`;

/** The Orders panel's done-today section: its orders (the heading's count), and its rows in the DOM. */
function doneToday(page: IJupyterLabPageFixture) {
  return page.evaluate(() => {
    const section = document.querySelector("#jupyterlab-ibkr-orders .jp-ibkr-Orders-done");
    if (!section) throw new Error("no done-today section in the Orders panel");
    const heading = section.querySelector("h3")?.textContent ?? "";
    return {
      orders: Number(/\((\d+)\)/.exec(heading)?.[1] ?? 0),
      rows: section.querySelectorAll("tr.jp-ibkr-Table-row").length,
    };
  });
}

/**
 * Snapshots so far, and how long before now the kernel sent the last one: when the page takes them
 * more slowly than the kernel sends, the rest wait in the server's and the browser's socket buffers.
 */
const feedProgress = (page: IJupyterLabPageFixture) =>
  page.evaluate(() => ({
    snapshots: window.__ibkrBench.count,
    lagMs: Date.now() - window.__ibkrBench.lastSentAt,
  }));

test("one simulated hour", async ({ page, tmpPath }) => {
  test.setTimeout(CONFIG.timeoutMs);
  const path = await openProbedNotebook(page, tmpPath, NOTEBOOK, FEED_MIME_TYPE);
  await showBothPanels(page);
  // Galata's page fixture wraps the Page; CDP wants the Page itself.
  const cdp = await page.context().newCDPSession(page.mainFrame().page());
  const sim = await TwsSimulator.start({
    port: 0,
    ...CONFIG.clocks,
    scenario: books.positionsScenario(CONFIG.positions, { prices: { [SYMBOL]: 100 } }),
  });
  try {
    const { pid } = await executeJson<{ pid: number }>(page, path, KERNEL_SETUP);
    const idle = { page: await pageMemory(cdp), kernel: await kernelMemory(page, path) };
    await watch(page, null); // counts snapshots from here
    const streamStart = now();
    const connected = await executeJson<{ positions: number; orders: number }>(
      page,
      path,
      connectCode(sim.port),
    );
    expect(connected.positions).toBe(CONFIG.positions);
    await execute(page, path, FLOW_START);
    const sample = async (kernelHeapBytes: number | null = null) => {
      const taken = {
        at: now(),
        ...(await feedProgress(page)),
        page: await pageMemory(cdp),
        kernelRssBytes: processRssBytes(pid),
        kernelHeapBytes,
        done: await doneToday(page),
      };
      const seconds = ((taken.at - streamStart) / 1000).toFixed(0);
      console.log(
        `panel bench: hour sample at ${seconds} s, ${taken.snapshots} snapshots, the last sent ${taken.lagMs} ms before`,
      );
      return taken;
    };
    await sleep(CONFIG.warmupMs);
    const first = await sample();
    first.kernelHeapBytes = (await kernelMemory(page, path)).heapUsedBytes;
    const samples = [first];
    const streamEnd = streamStart + (CONFIG.snapshots / CONFIG.feedMaxPerSecond) * 1000;
    for (let next = first.at + CONFIG.everyMs; next < streamEnd; next += CONFIG.everyMs) {
      await sleep(next - now());
      samples.push(await sample());
    }
    await sleep(streamEnd - now());
    const stoppedAt = now();
    const stopped = await executeJson<{
      orders: number;
      statuses: Record<string, number>;
      failed: number;
      kernel: KernelMemory;
    }>(page, path, FLOW_STOP);
    const drainSeconds = (now() - stoppedAt) / 1000;
    const last = await sample(stopped.kernel.heapUsedBytes);
    samples.push(last);
    const results = {
      date: new Date().toISOString(),
      config: CONFIG,
      connected,
      idle,
      samples,
      orders: { orders: stopped.orders, statuses: stopped.statuses, failed: stopped.failed },
      streamSeconds: (stoppedAt - streamStart) / 1000,
      drainSeconds,
      snapshotsAtEnd: last.snapshots,
    };
    console.log(
      `panel bench: one simulated hour: ${results.snapshotsAtEnd} snapshots in ${results.streamSeconds.toFixed(0)} s, the last reached the page ${drainSeconds.toFixed(0)} s after`,
    );
    mkdirSync(dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(results)}\n`);
  } finally {
    await execute(page, path, "clearInterval(flow.timer);\nib?.close();").catch(() => undefined);
    await sim.close();
    await cdp.detach().catch(() => undefined); // already gone when the test timed out
  }
});
