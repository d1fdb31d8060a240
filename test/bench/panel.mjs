/**
 * The panels' benchmarks: ui-tests/bench/panels.bench.ts run by Playwright with the browser tests'
 * start-up (JupyterLab from .venv with jupyterlab-ibkr, Debian's Chromium, the notebooks' tslab),
 * then its raw samples summarized here. Skipped, with the reason, where any of those is missing.
 * Bounded: Playwright's own global timeout (240 s), and this process's kill after 270 s.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { summarize } from "./stats.mjs";

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const UI_TESTS = path("../../ui-tests");
const PLAYWRIGHT = path("../../ui-tests/node_modules/.bin/playwright");
const RAW = path("./results/panel-raw.json");

const NEEDS = [
  ["/usr/bin/chromium", "no Debian Chromium at /usr/bin/chromium (scripts/ensure-chromium.sh installs it)"],
  [path("../../.venv/bin/jupyter"), "no JupyterLab in .venv (make test or make demo installs it)"],
  [
    path("../../.venv/share/jupyter/labextensions/jupyterlab-ibkr"),
    "the jupyterlab-ibkr extension is not installed in .venv (make demo installs it)",
  ],
  [PLAYWRIGHT, "ui-tests/node_modules is missing (make ui-tests installs it)"],
  [
    path("../../notebooks/node_modules/.bin/tslab"),
    "notebooks/node_modules has no tslab (npm ci --prefix notebooks)",
  ],
];

/** Why the section cannot run here, or undefined when it can. */
function unavailable() {
  return NEEDS.find(([file]) => !existsSync(file))?.[1];
}

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
  try {
    const { stdout } = await promisify(execFile)(PLAYWRIGHT, ["test", "-c", "playwright.bench.config.ts"], {
      cwd: UI_TESTS,
      env: {
        ...process.env,
        IBKR_BENCH_PANEL_CONFIG: JSON.stringify(config.bench),
        IBKR_BENCH_PANEL_RESULTS: RAW,
      },
      timeout: 270_000,
      maxBuffer: 16 << 20,
    });
    for (const line of stdout.split("\n")) if (line.startsWith("panel bench:")) console.log(`  ${line}`);
  } catch (error) {
    const output = `${error.stdout ?? ""}${error.stderr ?? ""}`.trim().split("\n").slice(-15).join("\n");
    throw new Error(`the panel benchmarks (Playwright) failed: ${error.message.split("\n")[0]}\n${output}`);
  }
  const raw = JSON.parse(await readFile(RAW, "utf8"));
  if (!(Date.parse(raw.date) >= startedAt - 1000)) throw new Error(`${RAW} holds no fresh figures`);
  return { date: raw.date, seconds: raw.seconds, config, ...summarizeParts(raw, config) };
}
