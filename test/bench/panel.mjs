/**
 * The panels' benchmarks: ui-tests/bench/panels.bench.ts run by Playwright (playwright.mjs), then its
 * raw samples summarized here. Skipped, with the reason, where JupyterLab, Chromium or tslab is
 * missing. Bounded: Playwright's global timeout (240 s), and this process's kill 30 s later.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { runBenchSpec, unavailable } from "./playwright.mjs";
import { summarize } from "./stats.mjs";

const RAW = fileURLToPath(new URL("./results/panel-raw.json", import.meta.url));

/** Summaries of a list of samples, leaving out the runs where a hop was not seen (null). */
function summary(values) {
  const seen = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  return seen.length ? summarize(seen) : null;
}

function latencySummary(events) {
  const hop = (key) => summary(events.map((e) => e[key]));
  return {
    events: events.length,
    kernel: hop("kernelMs"),
    firstSnapshot: hop("firstSnapshotMs"),
    sent: hop("sentMs"),
    snapshot: hop("snapshotMs"),
    dom: hop("domMs"),
  };
}

function renderSummary(sizes) {
  return sizes.map(({ positions, runs, parse }) => ({
    positions,
    reps: runs.length,
    apply: summary(runs.map((r) => r.applyMs)),
    decode: summary(runs.map((r) => r.decodeMs)),
    parse: summary(parse.ms),
    bytes: parse.bytes,
  }));
}

function cellsSummary(books) {
  return books.map(({ book, positions, times }) => ({
    book,
    positions,
    reps: times.display.length,
    trivial: summary(times.trivial),
    count: summary(times.count),
    display: summary(times.display),
  }));
}

function memorySummary(m, boundBytes) {
  const first = m.samples[0];
  const last = m.samples.at(-1);
  const growth = last.usedBytes - first.usedBytes;
  return {
    ...m,
    boundBytes,
    seconds: (last.at - first.at) / 1000,
    growthBytes: growth,
    peakGrowthBytes: Math.max(...m.samples.map((s) => s.usedBytes)) - first.usedBytes,
    snapshots: last.snapshots,
    met: growth < boundBytes,
  };
}

/** Each part's summary, or its { error } as the spec recorded it. */
function summarizeParts(raw, config) {
  const each = (part, fn) => (part?.error ? part : fn(part));
  return {
    latency: each(raw.latency, latencySummary),
    render: each(raw.render, renderSummary),
    cells: each(raw.cells, cellsSummary),
    memory: each(raw.memory, (m) => memorySummary(m, config.aims.heapGrowthBytes)),
  };
}

/**
 * `config`: { quick, aims: { latencyP50Ms, latencyP99Ms, renderMs, heapGrowthBytes }, bench } where
 * `bench` is the spec's PanelBenchConfig (counts and durations).
 */
export async function measurePanels(config) {
  const skipped = unavailable();
  if (skipped) return { skipped };
  const startedAt = Date.now();
  await runBenchSpec(
    "panels.bench.ts",
    { IBKR_BENCH_PANEL_CONFIG: JSON.stringify(config.bench), IBKR_BENCH_PANEL_RESULTS: RAW },
    240_000,
  );
  const raw = JSON.parse(await readFile(RAW, "utf8"));
  if (!(Date.parse(raw.date) >= startedAt - 1000)) throw new Error(`${RAW} holds no fresh figures`);
  return { date: raw.date, seconds: raw.seconds, config, ...summarizeParts(raw, config) };
}
