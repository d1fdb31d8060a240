/**
 * Four sections, each against a baseline measured in the same run, loopback only, the client side in
 * a child process:
 * 1. ibkr-sim: handshake time and sustained market-data rate to 1 and to 10 clients (about 50 s);
 *    figures in test/bench/results/simulator.json.
 * 2. the ibkr-notebook library against raw @stoqey/ib on the simulator: connect to ready, connect +
 *    positions for 10 / 1,000 / 10,000 positions, memory for 10,000 (library.mjs; about 25 s);
 *    figures in test/bench/results/library.json.
 * 3. results as data (data.mjs, run as its own `node --expose-gc` process, in its quick form to
 *    keep the whole run near two minutes); figures in test/bench/results/data.json.
 * 4. Python ib_async's connect-and-sync on the same simulator, a second baseline for the library's
 *    connect + positions (ib-async.mjs; skipped with the reason where .venv or ib_async is missing).
 * 5. the panels in real JupyterLab and Chromium on the tslab kernel: fill-to-panel latency, a
 *    10,000-position snapshot's render, cell time for a positions display, the page's heap on a
 *    changing feed (panel.mjs → ui-tests/bench; about 2.5 min; skipped with the reason where .venv,
 *    Chromium or ui-tests/node_modules is missing); figures in test/bench/results/panel.json. Then
 *    one simulated hour of streaming in 3 minutes with the page's and the kernel's memory sampled
 *    (page-hour.mjs → ui-tests/bench/hour.bench.ts; about 4 to 5 min in all, stopped after 5.5 min);
 *    figures in test/bench/results/page-hour.json.
 * Then BENCHMARKS.md at the repository root: every figure, baseline, ratio and aim
 * (report-md.mjs). A section that fails is reported as failed; the others still run.
 * `--quick`: a few seconds each, rough figures; the Markdown goes to test/bench/results/ instead.
 * `--only <names>`: those sections alone (comma-separated: simulator, library, data, ib-async,
 * panel); the Markdown goes to test/bench/results/ too, so BENCHMARKS.md keeps a whole run.
 *
 *   npm run bench                            # builds first
 *   node test/bench/run.mjs                  # uses kernel-lib/dist as built
 *   node test/bench/run.mjs --only panel     # the browser's benchmarks alone
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { QUIET } from "./books.cjs";
import { measureHandshakes } from "./handshake.mjs";
import { measureIbAsync } from "./ib-async.mjs";
import { measureLibrary } from "./library.mjs";
import { measurePageHour } from "./page-hour.mjs";
import { measurePanels } from "./panel.mjs";
import { RemoteClient } from "./remote-client.mjs";
import {
  formatLibraryReport,
  formatPageHourReport,
  formatPanelReport,
  formatReport,
  writeJson,
} from "./report.mjs";
import { writeMarkdown } from "./report-md.mjs";
import { STREAMING_OPTIONS } from "./servers.mjs";
import { measureThroughput } from "./throughput.mjs";

const RESULTS = new URL("./results/simulator.json", import.meta.url);
const LIBRARY_RESULTS = new URL("./results/library.json", import.meta.url);
const DATA_RESULTS = new URL("./results/data.json", import.meta.url);
const DATA_SCRIPT = new URL("./data.mjs", import.meta.url);
const IB_ASYNC_RESULTS = new URL("./results/ib-async.json", import.meta.url);
const PANEL_RESULTS = new URL("./results/panel.json", import.meta.url);
const PAGE_HOUR_RESULTS = new URL("./results/page-hour.json", import.meta.url);
const quick = process.argv.includes("--quick");
const only = onlyArgument();
const MARKDOWN = new URL(quick || only ? "./results/BENCHMARKS.md" : "../../BENCHMARKS.md", import.meta.url);

const config = {
  quick,
  aims: { handshakeMs: 2, messagesPerSecond: 100_000 },
  handshakes: quick ? 40 : 200,
  handshakeWarmup: quick ? 10 : 50,
  stoqeyHandshakes: quick ? 5 : 20,
  // IB's 100 market-data lines, from one client or shared by ten.
  loads: [
    { clients: 1, linesPerClient: 100 },
    { clients: 10, linesPerClient: 10 },
  ],
  reps: quick ? 2 : 5,
  durationMs: quick ? 500 : 2_000,
  warmupMs: quick ? 300 : 1_000,
  simulator: STREAMING_OPTIONS,
};

const libraryConfig = {
  quick,
  // Issue 3: the library no worse than 1.2× raw @stoqey/ib on each figure.
  aim: 1.2,
  // Runs of a millisecond or less swing by tens of percent with the machine's load: enough of them
  // that the medians, and so the ratios, hold still from one run of the benchmark to the next (at 200
  // connects and 100 runs of 10 positions the ratios moved by ±0.04 between runs; at 600 and 400, ±0.02).
  connects: { count: quick ? 10 : 600, warmup: quick ? 4 : 50 },
  firstConnects: { runs: quick ? 2 : 10 },
  positions: [
    { positions: 10, reps: quick ? 4 : 400, warmup: quick ? 2 : 20 },
    { positions: 1_000, reps: quick ? 3 : 40, warmup: quick ? 1 : 10 },
    { positions: 10_000, reps: quick ? 2 : 20, warmup: quick ? 1 : 5 },
  ],
  memory: { positions: 10_000, runs: quick ? 1 : 3 },
  simulator: QUIET,
};

// Python's ib_async against the same simulator (ib-async.mjs): its connect-and-sync per book size.
const ibAsyncConfig = {
  sizes: [
    { positions: 10, reps: quick ? 3 : 10, warmup: quick ? 1 : 3 },
    { positions: 1_000, reps: quick ? 2 : 5, warmup: 1 },
    { positions: 10_000, reps: quick ? 1 : 3, warmup: quick ? 0 : 1 },
  ],
};

// The panels in JupyterLab (panel.mjs, ui-tests/bench/panels.bench.ts). Issue 4: a fill in the Orders
// panel within 100 ms (p50) and 400 ms (p99); issue 6: a 10,000-position snapshot applied in under
// 50 ms. The heap bound is ours: what a feed that keeps changing may add to the page in the run.
const panelConfig = {
  quick,
  aims: { latencyP50Ms: 100, latencyP99Ms: 400, renderMs: 50, heapGrowthBytes: 5e6 },
  bench: {
    // Each fill waits for the feed to be quiet for longer than its 250 ms throttle interval.
    latency: { events: quick ? 20 : 100, warmup: 3, quietMs: 300 },
    render: { sizes: [10, 10_000], reps: quick ? 4 : 10, warmup: 2, parseReps: 10 },
    cells: { sizes: [1_000, 10_000], reps: quick ? 2 : 5, warmup: 1 },
    memory: {
      positions: 1_000,
      warmupMs: 5_000,
      durationMs: quick ? 10_000 : 30_000,
      everyMs: quick ? 2_500 : 5_000,
      maxOrders: 60,
    },
  },
};

// One simulated hour in the page (page-hour.mjs, ui-tests/bench/hour.bench.ts): the hardening issue's
// long run, "no growth beyond a stated bound in the kernel or the browser". An hour of the feed at
// its default cap is 14,400 snapshots; the kernel's feed runs at 20× (80/s) and the simulator's
// clocks too, so the hour streams for 3 minutes (a quarter hour with --quick). The bounds are ours: the page's heap as for the
// 30 s run, the kernel's as the library's own long run (kernel-lib/test/reliability/long-run.test.ts),
// and DOM nodes and listeners within a few table rows of the first sample.
const pageHourConfig = {
  quick,
  aims: { heapGrowthBytes: 5e6, kernelHeapGrowthBytes: 10e6, nodesGrowth: 200, listenersGrowth: 50 },
  bench: {
    positions: 100,
    feedMaxPerSecond: 80,
    snapshots: quick ? 3_600 : 14_400,
    clocks: {
      tickIntervalMs: 12, // 250 ms / 20, in Node's whole milliseconds
      accountUpdateIntervalMs: 150, // 3 s / 20
      // TWS pushes each position's P&L about once a second, each on its own: 100 positions change the
      // state ~100 times a second, past the feed's cap. The simulator pushes them together, so its P&L
      // clock runs twice as often as the feed may send: a change is always waiting.
      pnlIntervalMs: 6,
    },
    seedOrders: 40,
    orderEveryMs: 1_200,
    warmupMs: quick ? 5_000 : 10_000,
    everyMs: quick ? 10_000 : 30_000,
    // The notebook and its kernel, the stream (180 s; 45 s with --quick), the page catching up.
    timeoutMs: quick ? 150_000 : 330_000,
  },
};

/** `--only a,b` (or `--only=a,b`): the section names to run, or undefined for all. */
function onlyArgument() {
  const at = process.argv.findIndex((a) => a === "--only" || a.startsWith("--only="));
  if (at < 0) return undefined;
  const arg = process.argv[at];
  const text = arg === "--only" ? (process.argv[at + 1] ?? "") : arg.slice("--only=".length);
  const names = text.split(",").filter(Boolean);
  const known = ["simulator", "library", "data", "ib-async", "panel"];
  const unknown = names.filter((name) => !known.includes(name));
  if (names.length === 0 || unknown.length > 0) {
    console.error(`--only takes one or more of ${known.join(", ")}, comma-separated; got "${text}"`);
    process.exit(2);
  }
  return new Set(names);
}

function machine() {
  const cores = cpus();
  return {
    cpu: cores[0]?.model ?? "unknown",
    cores: cores.length,
    node: process.version,
    platform: process.platform,
  };
}

/** Runs one section; a failure is kept as { error } so that the other sections and the report go on. */
async function section(name, fn) {
  try {
    return await fn();
  } catch (error) {
    console.error(`${name} failed: ${error?.stack ?? error}`);
    return { error: String(error?.message ?? error) };
  }
}

async function simulatorMain() {
  const started = performance.now();
  const client = new RemoteClient();
  try {
    const handshake = await measureHandshakes(client, {
      count: config.handshakes,
      warmup: config.handshakeWarmup,
      stoqeyCount: config.stoqeyHandshakes,
    });
    const throughput = [];
    for (const load of config.loads) {
      const { reps, durationMs, warmupMs } = config;
      throughput.push(await measureThroughput(client, { ...load, reps, durationMs, warmupMs }));
    }
    const results = {
      date: new Date().toISOString(),
      machine: machine(),
      config,
      handshake,
      throughput,
      seconds: (performance.now() - started) / 1000,
    };
    console.log(formatReport(results));
    await writeJson(results, RESULTS);
    console.log(`Figures written to ${relative(process.cwd(), fileURLToPath(RESULTS))}`);
    return results;
  } finally {
    client.close();
  }
}

async function libraryMain() {
  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    config: libraryConfig,
    ...(await measureLibrary(libraryConfig)),
  };
  console.log(formatLibraryReport(results));
  await writeJson(results, LIBRARY_RESULTS);
  console.log(`Figures written to ${relative(process.cwd(), fileURLToPath(LIBRARY_RESULTS))}`);
  return results;
}

/**
 * data.mjs is a script of its own (it imports kernel-lib/dist and writes results/data.json): run it
 * as it documents itself, with --expose-gc, in its quick form, and read what it wrote.
 */
async function dataMain() {
  const startedAt = Date.now();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--expose-gc", fileURLToPath(DATA_SCRIPT), "--quick"],
    { timeout: 180_000, maxBuffer: 8 << 20 },
  );
  console.log(stdout.trimEnd());
  const results = JSON.parse(await readFile(DATA_RESULTS, "utf8"));
  const when = Date.parse(results.when ?? results.date ?? "");
  if (!(when >= startedAt - 1000))
    throw new Error("data.mjs did not write fresh figures to results/data.json");
  if (!Array.isArray(results.sets)) throw new Error("results/data.json has no sets: its format changed");
  return results;
}

async function ibAsyncMain() {
  const results = await measureIbAsync(ibAsyncConfig);
  if (results.skipped) {
    console.log(`ib_async baseline skipped: ${results.skipped}`);
    return results;
  }
  console.log(
    `ib_async ${results.version} (Python ${results.python}) connect-and-sync on ibkr-sim, ms: median (min–max)`,
  );
  for (const s of results.sizes) {
    const f = (x) => `${x.median.toFixed(2)} (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
    console.log(
      `  ${s.positions.toLocaleString("en-US").padStart(6)} positions: like-for-like ${f(s.like)}, full sync ${f(s.full)}`,
    );
  }
  await writeJson({ date: new Date().toISOString(), config: ibAsyncConfig, ...results }, IB_ASYNC_RESULTS);
  console.log(`Figures written to ${relative(process.cwd(), fileURLToPath(IB_ASYNC_RESULTS))}`);
  return results;
}

/** A browser section: skipped with the reason where its parts are missing, else reported and saved. */
async function browserSection(what, measure, config, format, file) {
  const results = await measure(config);
  if (results.skipped) {
    console.log(`${what} skipped: ${results.skipped}`);
    return results;
  }
  console.log(format(results));
  await writeJson(results, file);
  console.log(`Figures written to ${relative(process.cwd(), fileURLToPath(file))}`);
  return results;
}

const panelMain = () =>
  browserSection("panel benchmarks", measurePanels, panelConfig, formatPanelReport, PANEL_RESULTS);
const pageHourMain = () =>
  browserSection("simulated hour", measurePageHour, pageHourConfig, formatPageHourReport, PAGE_HOUR_RESULTS);

/** In the order they run: `name` is what --only selects, `key` where the report finds the results. */
const SECTIONS = [
  { name: "simulator", key: "simulator", title: "simulator benchmark", run: simulatorMain },
  { name: "library", key: "library", title: "library benchmark", run: libraryMain },
  { name: "data", key: "data", title: "results-as-data benchmark", run: dataMain },
  { name: "ib-async", key: "ibAsync", title: "ib_async baseline", run: ibAsyncMain },
  { name: "panel", key: "panel", title: "panel benchmarks", run: panelMain },
  { name: "panel", key: "pageHour", title: "simulated hour", run: pageHourMain },
];

async function main() {
  const started = performance.now();
  const date = new Date().toISOString();
  const loadBefore = loadavg()[0];
  const results = {};
  for (const { name, key, title, run } of SECTIONS) {
    if (only && !only.has(name)) continue;
    if (Object.keys(results).length > 0) console.log("");
    results[key] = await section(title, run);
  }
  const seconds = (performance.now() - started) / 1000;
  await writeMarkdown(
    {
      date,
      machine: machine(),
      load: { before: loadBefore, after: loadavg()[0] },
      quick,
      only: only && [...only],
      seconds,
      ...results,
    },
    MARKDOWN,
  );
  console.log(
    `\nAll benchmarks in ${seconds.toFixed(0)} s; report written to ${relative(process.cwd(), fileURLToPath(MARKDOWN))}`,
  );
  if (Object.values(results).some((r) => r.error)) process.exitCode = 1;
}

await main();
