/**
 * One simulated hour in the page and the kernel: ui-tests/bench/hour.bench.ts run by Playwright
 * (playwright.mjs), then its samples summarized against the bounds: heap growth in the page (at the
 * end and at the peak) and in the kernel (at the end), and the page's DOM nodes and event listeners.
 * Skipped, with the reason, where JupyterLab, Chromium or tslab is missing.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { runBenchSpec, unavailable } from "./playwright.mjs";

const RAW = fileURLToPath(new URL("./results/page-hour-raw.json", import.meta.url));
/** The feed's default cap: an hour of a busy book at 4 snapshots a second. */
const SNAPSHOTS_PER_HOUR = 4 * 3600;

/** First, highest and last of one figure over the samples, and the growth to the last and the peak. */
function course(samples, value) {
  const values = samples.map(value);
  const start = values[0];
  const peak = Math.max(...values);
  const end = values.at(-1);
  return { start, peak, end, growth: end - start, peakGrowth: peak - start };
}

/**
 * `config`: { quick, aims: { heapGrowthBytes, kernelHeapGrowthBytes, nodesGrowth, listenersGrowth },
 * bench } where `bench` is the spec's HourBenchConfig (clocks, counts, durations, its time limit).
 */
export async function measurePageHour(config) {
  const skipped = unavailable();
  if (skipped) return { skipped };
  const startedAt = Date.now();
  await runBenchSpec(
    "hour.bench.ts",
    { IBKR_BENCH_HOUR_CONFIG: JSON.stringify(config.bench), IBKR_BENCH_HOUR_RESULTS: RAW },
    config.bench.timeoutMs + 30_000,
  );
  const raw = JSON.parse(await readFile(RAW, "utf8"));
  if (!(Date.parse(raw.date) >= startedAt - 1000)) throw new Error(`${RAW} holds no fresh figures`);
  const { samples } = raw;
  const first = samples[0];
  const last = samples.at(-1);
  const heap = course(samples, (s) => s.page.usedBytes);
  const nodes = course(samples, (s) => s.page.nodes);
  const listeners = course(samples, (s) => s.page.listeners);
  // Read by cells, at the start and once the page has caught up at the end.
  const kernelHeap = {
    start: first.kernelHeapBytes,
    end: last.kernelHeapBytes,
    growth: last.kernelHeapBytes - first.kernelHeapBytes,
  };
  const { aims, bench } = config;
  return {
    date: raw.date,
    config,
    connected: raw.connected,
    orders: raw.orders,
    idle: raw.idle,
    samples,
    snapshots: raw.snapshotsAtEnd,
    simulatedHours: raw.snapshotsAtEnd / SNAPSHOTS_PER_HOUR,
    // The simulator's clocks and the feed's cap run feedMaxPerSecond / 4 times as fast as an hour's.
    clockHours: (raw.streamSeconds * (bench.feedMaxPerSecond / 4)) / 3600,
    streamSeconds: raw.streamSeconds,
    drainSeconds: raw.drainSeconds,
    heap,
    heapPerThousandSnapshots: (heap.growth / (last.snapshots - first.snapshots)) * 1000,
    nodes,
    liveNodes: course(samples, (s) => s.page.liveNodes),
    listeners,
    kernelHeap,
    kernelRss: course(samples, (s) => s.kernelRssBytes),
    doneRows: course(samples, (s) => s.done.rows),
    // While streaming: the end sample comes after the page caught up.
    lag: course(samples.slice(0, -1), (s) => s.lagMs),
    met: {
      heap: heap.growth < aims.heapGrowthBytes && heap.peakGrowth < aims.heapGrowthBytes,
      nodes: nodes.peakGrowth <= aims.nodesGrowth,
      listeners: listeners.peakGrowth <= aims.listenersGrowth,
      kernelHeap: kernelHeap.growth < aims.kernelHeapGrowthBytes,
    },
  };
}
