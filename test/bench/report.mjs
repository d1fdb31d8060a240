/** The benchmark's readable report (stdout) and its figures for later collection (JSON). */
import { mkdir, writeFile } from "node:fs/promises";

const ms = (value) => value.toFixed(3);
const count = (value) => Math.round(value).toLocaleString("en-US");
const times = (value) => `${value.toFixed(2)}×`;
const verdict = (ok) => (ok ? "met" : "NOT MET");

function row(label, cells) {
  return `  ${label.padEnd(38)}${cells.map((c) => String(c).padStart(9)).join("")}`;
}

function handshakeLines(h, aims) {
  const cells = (s) => [ms(s.median), ms(s.p90), ms(s.p99), ms(s.min), ms(s.max)];
  return [
    "Handshake: connect → server version → startApi → nextValidId, sequential, in ms",
    row("", ["median", "p90", "p99", "min", "max"]),
    row(`ibkr-sim, raw client (n=${h.simulator.n})`, cells(h.simulator)),
    row(`floor: connect + 2 echo trips (n=${h.floor.n})`, cells(h.floor)),
    row(`ibkr-sim, @stoqey/ib IBApi (n=${h.stoqey.n})`, cells(h.stoqey)),
    `  ibkr-sim / floor, medians: ${times(h.ratio)}`,
    `  aim: handshake under ${aims.handshakeMs} ms: ${verdict(h.simulator.median < aims.handshakeMs)}`,
  ];
}

function rateLine(name, side) {
  const s = side.messagesPerSecond;
  return `    ${name.padEnd(9)}${count(s.median).padStart(12)} msgs/s  (${count(s.min)}–${count(s.max)})  ${side.megabytesPerSecond.median.toFixed(1)} MB/s`;
}

/** Messages sent and received over all runs, and how often the sender waited for the client. */
function deliveryLine(name, runs) {
  const sum = (key) => count(runs.reduce((n, r) => n + r[key], 0));
  return `      ${name.padEnd(9)}sent ${sum("sentMessages")}, received ${sum("receivedMessages")} messages; waited for drain ${sum("stalls")}×`;
}

function loadLines(load) {
  const who = load.clients === 1 ? "1 client" : `${load.clients} clients together`;
  return [
    `  ${who}, ${load.linesPerClient} lines each, ~${load.messagesPerStep} messages per step`,
    rateLine("ibkr-sim", load.simulator),
    rateLine("ceiling", load.ceiling),
    `    ibkr-sim / ceiling, medians: ${times(load.ratio)}; every run delivered all it sent: ${load.simulator.allValid && load.ceiling.allValid ? "yes" : "NO"}`,
    deliveryLine("ibkr-sim", load.simulator.runs),
    deliveryLine("ceiling", load.ceiling.runs),
  ];
}

function throughputLines(results) {
  const { config } = results;
  const one = results.throughput.find((load) => load.clients === 1);
  const lines = [
    `Sustained market data (ticks): ${config.reps} runs × ${config.durationMs / 1000} s, median (min–max)`,
    "  ibkr-sim stepped as fast as the client takes it; ceiling: a bare TCP server writing the",
    "  simulator's own bytes, captured in the warm-up, to the same client process",
    `  (request rate limit raised to ${count(config.simulator.messageRateLimit)}/s so the subscriptions go in at once)`,
  ];
  for (const load of results.throughput) lines.push(...loadLines(load));
  if (one) {
    const ok = one.simulator.messagesPerSecond.median > config.aims.messagesPerSecond;
    lines.push(`  aim: over ${count(config.aims.messagesPerSecond)} msgs/s to one client: ${verdict(ok)}`);
  }
  return lines;
}

export function formatReport(results) {
  const { machine, config } = results;
  return [
    `ibkr-sim benchmark: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, loopback`,
    "",
    ...handshakeLines(results.handshake, config.aims),
    "",
    ...throughputLines(results),
    "",
    `Took ${results.seconds.toFixed(1)} s.${config.quick ? " --quick: short runs, rough figures." : ""}`,
  ].join("\n");
}

// ── the library against raw @stoqey/ib (library.mjs) ───────────────────────────────────────────

const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;
const spread = (s, unit = ms) => `${unit(s.median)} (${unit(s.min)}–${unit(s.max)})`;

function aimLine(label, c, aim) {
  return `  ${label.padEnd(36)}${times(c.ratio).padStart(7)}  aim ≤ ${times(aim)}: ${verdict(c.met)}`;
}

/** The client process's CPU time per run, and the GC pauses in it: information beside elapsed time. */
function cpuLine(indent, c) {
  const side = (name) => `${ms(c.cpu[name].median)} (GC ${ms(c.gc[name].median)})`;
  return `${indent}client CPU per run, medians: library ${side("library")}, raw ${side("raw")}: ${times(c.cpu.ratio)} (information)`;
}

function libraryConnectLines(c, aim) {
  const cells = (s) => [ms(s.median), ms(s.p90), ms(s.min), ms(s.max)];
  return [
    "Connect to ready, sequential, each with its own client id, in ms",
    "  library: await connect() (handshake, managedAccounts and nextValidId; a read-only connection asks",
    "  nothing more until something needs it); raw: IBApi.connect() until nextValidId",
    row("", ["median", "p90", "min", "max"]),
    row(`library (n=${c.library.n})`, cells(c.library)),
    row(`raw @stoqey/ib (n=${c.raw.n})`, cells(c.raw)),
    aimLine("library / raw, medians", c, aim),
    cpuLine("  ", c),
    `  information, a second pass: a trading connection ${ms(c.trading.library.median)} (it asks for its open orders and the`,
    `  day's executions at once) against raw asking the same at nextValidId ${ms(c.trading.raw.median)}, medians: ${times(c.trading.ratio)}`,
  ];
}

function firstConnectLines(f) {
  const cells = (s) => [ms(s.median), ms(s.p90), ms(s.min), ms(s.max)];
  return [
    "First connect of a fresh process (modules loaded, nothing run yet: a new notebook kernel's first cell), in ms",
    row("", ["median", "p90", "min", "max"]),
    row(`library (n=${f.library.n})`, cells(f.library)),
    row(`raw @stoqey/ib (n=${f.raw.n})`, cells(f.raw)),
    `  library / raw, medians                ${times(f.ratio)} (information: code compiled on first use)`,
  ];
}

function libraryPositionsLines(results) {
  const lines = [
    "Connect + every position, fresh connection each run, in ms: median (min–max)",
    "  library: connect() then positions() (which starts the standing positions download and waits",
    "  for it); raw: connect, nextValidId, reqPositions, positions",
    "  into a Map until positionEnd. A full GC and a 10 ms pause before each run.",
  ];
  for (const p of results.positions) {
    lines.push(
      `  ${count(p.positions)} positions, ${p.reps} runs each`,
      `    library ${spread(p.library).padStart(30)}`,
      `    raw     ${spread(p.raw).padStart(30)}`,
      aimLine("  library / raw, medians", p, results.aim),
      cpuLine("    ", p),
      `    again on the same connection: library positions() ${spread(p.warm.library)} (from its state);`,
      `      raw reqPositions → positionEnd ${spread(p.warm.raw)} (downloads again)`,
    );
  }
  return lines;
}

function libraryMemoryLines(m, aim) {
  const base = (side) =>
    `${mb(m.baseline[side].heapUsed.median)} heap, ${mb(m.baseline[side].rss.median)} RSS`;
  return [
    `Memory to hold ${count(m.positions)} positions: growth of the client process, ${m.runs} fresh processes each,`,
    "  after a warm-up round and a full GC (--expose-gc), connection and result kept: median (min–max)",
    `    heap used   library ${spread(m.heapUsed.library, mb)}, raw ${spread(m.heapUsed.raw, mb)}`,
    aimLine("  heap used, library / raw, medians", m.heapUsed, aim),
    `    RSS         library ${spread(m.rss.library, mb)}, raw ${spread(m.rss.raw, mb)}: ${times(m.rss.ratio)} (information)`,
    `    before: library ${base("library")}; raw ${base("raw")} (modules loaded, not counted)`,
  ];
}

export function formatLibraryReport(results) {
  const { machine, config } = results;
  const all = [results.connect, ...results.positions, results.memory.heapUsed];
  return [
    `ibkr-notebook library against raw @stoqey/ib on ibkr-sim: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, loopback`,
    "  simulator in this process, clocks stopped; clients in a child process, library and raw",
    "  alternating run by run after a warm-up of each",
    "",
    ...libraryConnectLines(results.connect, results.aim),
    "",
    ...firstConnectLines(results.firstConnect),
    "",
    ...libraryPositionsLines(results),
    "",
    ...libraryMemoryLines(results.memory, results.aim),
    "",
    `Aim, library no worse than ${times(results.aim)} raw on each: ${all.every((c) => c.met) ? "met on all" : `NOT MET on ${all.filter((c) => !c.met).length} of ${all.length}`}`,
    `Took ${results.seconds.toFixed(1)} s.${config.quick ? " --quick: short runs, rough figures." : ""}`,
  ].join("\n");
}

/**
 * Summaries and per-run records only: JSON.stringify puts each element of a number array on its own
 * line, which the repository's formatter (biome) would rewrite, so raw samples stay out.
 */
export async function writeJson(results, url) {
  await mkdir(new URL(".", url), { recursive: true });
  await writeFile(url, `${JSON.stringify(results, null, 2)}\n`);
}

// ── the panels in JupyterLab (panel.mjs) ──────────────────────────────────────────────────────

const ms1 = (v) => v.toFixed(1);
const hop = (s) => (s ? `${ms1(s.median)} / ${ms1(s.p99)} (${ms1(s.min)}–${ms1(s.max)})` : "not seen");
const part = (name, p, lines) => (p.error ? [`${name}: FAILED: ${p.error}`] : lines(p));

export function formatPanelReport(results) {
  const { aims } = results.config;
  const lines = ["Panels in JupyterLab + Chromium on the tslab kernel, against ibkr-sim in the driver"];
  lines.push(
    ...part("Fill → Orders panel", results.latency, (l) => [
      `Fill → Orders panel, ${l.events} fills each on a quiet feed, ms after the fill: median / p99 (min–max)`,
      `    library in the kernel hears it  ${hop(l.kernel)}`,
      `    first snapshot reaches the page ${hop(l.firstSnapshot)}`,
      `    snapshot with the fill sent     ${hop(l.sent)}`,
      `    … reaches the page              ${hop(l.snapshot)}`,
      `    Orders panel shows it (DOM)     ${hop(l.dom)}`,
      `  aims p50 < ${aims.latencyP50Ms} ms: ${verdict(l.dom.median < aims.latencyP50Ms)}; p99 < ${aims.latencyP99Ms} ms: ${verdict(l.dom.p99 < aims.latencyP99Ms)}`,
    ]),
    ...part("Positions snapshot render", results.render, (sizes) => [
      "Positions snapshot, arrival in the page → row committed to the DOM, ms: median (min–max)",
      ...sizes.map(
        (s) =>
          `  ${count(s.positions).padStart(6)} positions (${(s.bytes / 1e6).toFixed(2)} MB): apply ${spread(s.apply)}, of which decode ${spread(s.decode)}; JSON.parse alone ${spread(s.parse)}`,
      ),
    ]),
    ...part("Cell time", results.cells, (books) => [
      "Cell time, execute_request → execute_reply, ms: median (min–max)",
      ...books.map(
        (b) =>
          `  ${b.book} (${count(b.positions)}): \`1 + 1\` ${spread(b.trivial)}; .length ${spread(b.count)}; \`await ib.positions()\` ${spread(b.display)}`,
      ),
    ]),
    ...part("Heap", results.memory, (m) => [
      `Page heap after forced GC, ${m.samples.length} samples over ${m.seconds.toFixed(0)} s, ${m.snapshots} snapshots of ${count(m.positions)} positions: ${m.samples.map((s) => (s.usedBytes / 1e6).toFixed(1)).join(", ")} MB`,
      `  growth ${mb(m.growthBytes)} (bound ${mb(m.boundBytes)}: ${verdict(m.met)}); idle before the feed ${mb(m.idle.usedBytes)}`,
    ]),
    `Took ${results.seconds.toFixed(0)} s in the browser.`,
  );
  return lines.join("\n");
}

// ── one simulated hour (page-hour.mjs) ────────────────────────────────────────────────────────

const signedMb = (bytes) => `${bytes < 0 ? "" : "+"}${(bytes / 1e6).toFixed(2)} MB`;
const signedCount = (value) => `${value < 0 ? "" : "+"}${count(value)}`;

export function formatPageHourReport(results) {
  const { heap, nodes, listeners, kernelHeap, lag, met, config } = results;
  return [
    `One simulated hour: ${count(results.snapshots)} snapshots (${results.simulatedHours.toFixed(2)} h at 4/s) streamed in ${results.streamSeconds.toFixed(0)} s, the last in the page ${results.drainSeconds.toFixed(0)} s after; lag while streaming ${(lag.start / 1000).toFixed(1)} s → ${(lag.end / 1000).toFixed(1)} s`,
    `  page heap ${mb(heap.start)} → ${mb(heap.end)} (${signedMb(heap.growth)}, peak ${signedMb(heap.peakGrowth)}, ${signedMb(results.heapPerThousandSnapshots)} per 1k snapshots): ${verdict(met.heap)}`,
    `  DOM nodes ${count(nodes.start)} → ${count(nodes.end)} (peak ${signedCount(nodes.peakGrowth)}): ${verdict(met.nodes)}; listeners ${count(listeners.start)} → ${count(listeners.end)} (peak ${signedCount(listeners.peakGrowth)}): ${verdict(met.listeners)}`,
    `  kernel heap ${mb(kernelHeap.start)} → ${mb(kernelHeap.end)} (${signedMb(kernelHeap.growth)}): ${verdict(met.kernelHeap)}`,
    `  done today: ${count(results.samples.at(-1).done.orders)} orders, at most ${count(results.doneRows.peak)} rows in the DOM${config.quick ? "; --quick: a quarter hour" : ""}`,
  ].join("\n");
}
