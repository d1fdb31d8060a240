/**
 * Results as data: the time to turn 10,000 positions and 100,000 daily bars into records, CSV (text
 * and a file) and an arquero dataframe, next to building the HTML table (and the plain-text table)
 * for the same data. Synthetic rows, built as the library builds its results (asPositions, asBars);
 * each figure is the median of several runs after a warm-up, with the range. arquero's first import
 * is timed apart, in a fresh process. Figures in test/bench/results/data.json.
 *
 *   npm run build && node --expose-gc test/bench/data.mjs [--quick]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { summarize } from "./stats.mjs";

const quick = process.argv.includes("--quick");
const REPS = quick ? 3 : 9;
const RESULTS = new URL("./results/data.json", import.meta.url);
const RESULTS_JS = fileURLToPath(new URL("../../kernel-lib/dist/display/results.js", import.meta.url));

const { asBars, asPositions, asTable } = await import(RESULTS_JS);

// The library's tables show at most 200 rows (the first and last 10 beyond that); the same columns
// with every row in the HTML say what a full table would cost.
const POSITION_COLUMNS = [
  { key: "account", header: "Account" },
  { key: "symbol", header: "Symbol" },
  { key: "secType", header: "Type" },
  { key: "localSymbol", header: "Local symbol" },
  { key: "quantity", header: "Quantity", kind: "quantity" },
  { key: "avgCost", header: "Avg cost", kind: "price" },
  { header: "Cost basis", value: (p) => p.quantity * p.avgCost, kind: "money", total: true },
  { key: "currency", header: "Currency" },
];
const BAR_COLUMNS = [
  { key: "time", header: "Time", kind: "date" },
  ...["open", "high", "low", "close"].map((key) => ({ key, header: key, kind: "price" })),
  { key: "volume", header: "Volume", kind: "integer" },
  { key: "wap", header: "WAP", kind: "price" },
  { key: "count", header: "Trades", kind: "integer" },
];

// ── synthetic results ───────────────────────────────────────────────────────────────────────────

function positions(n) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    const option = i % 10 === 9;
    const symbol = `S${String(i).padStart(5, "0")}`;
    rows.push({
      account: i % 2 === 0 ? "DU1111111" : "DU2222222",
      symbol,
      secType: option ? "OPT" : "STK",
      localSymbol: option ? `${symbol.padEnd(6)}270115C00250000` : symbol,
      currency: "USD",
      quantity: ((i * 37) % 1000) - 300 + (i % 7 === 0 ? 0.125 : 0),
      avgCost: 10 + ((i * 7919) % 50_000) / 100,
      contract: { conId: 100_000 + i, symbol, secType: option ? "OPT" : "STK", currency: "USD" },
    });
  }
  return asPositions(rows);
}

async function bars(n) {
  const rows = [];
  let close = 100;
  const start = Date.UTC(1990, 0, 1);
  for (let i = 0; i < n; i++) {
    const open = close;
    close = Math.max(1, open * (1 + Math.sin(i * 12.9898) * 0.02));
    rows.push({
      time: new Date(start + i * 86_400_000),
      open,
      high: Math.max(open, close) * 1.01,
      low: Math.min(open, close) * 0.99,
      close,
      volume: 1_000_000 + ((i * 7919) % 500_000),
      wap: (open + close) / 2,
      count: 5000 + (i % 997),
    });
  }
  return asBars(rows, { symbol: "SYN", barSize: "1 day", chart: false });
}

// ── timing ──────────────────────────────────────────────────────────────────────────────────────

async function time(fn) {
  await fn(); // warm-up: JIT, and arquero's import for the dataframe
  const samples = [];
  for (let i = 0; i < REPS; i++) {
    globalThis.gc?.(); // with --expose-gc: each run starts with the last one's garbage collected
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return summarize(samples);
}

/** arquero's first `await import()` in a fresh Node process, as a kernel's first toDataFrame() pays it. */
function coldImportMs() {
  const script = `const t0 = performance.now(); import("arquero").then(() => console.log(performance.now() - t0));`;
  const cwd = fileURLToPath(new URL("../../kernel-lib/", import.meta.url));
  const samples = [];
  for (let i = 0; i < (quick ? 2 : 5); i++) {
    samples.push(Number(execFileSync(process.execPath, ["-e", script], { cwd, encoding: "utf8" })));
  }
  return summarize(samples);
}

const dir = mkdtempSync(join(tmpdir(), "ibkr-bench-data-"));
const positionRows = positions(10_000);
const barRows = await bars(100_000);
const sets = [
  {
    name: "10,000 positions",
    rows: 10_000,
    result: positionRows,
    full: asTable([...positionRows], POSITION_COLUMNS, { maxRows: Number.POSITIVE_INFINITY }),
    file: join(dir, "positions.csv"),
  },
  {
    name: "100,000 bars",
    rows: 100_000,
    result: barRows,
    full: asTable([...barRows], BAR_COLUMNS, { maxRows: Number.POSITIVE_INFINITY }),
    file: join(dir, "bars.csv"),
  },
];

const report = {
  when: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? "unknown",
  reps: REPS,
  arqueroImportMs: coldImportMs(),
  sets: [],
};

try {
  for (const set of sets) {
    const { result } = set;
    const figures = {
      "HTML table (toHTML)": await time(() => result.toHTML()),
      "HTML table of every row": await time(() => set.full.toHTML()),
      "text table (toText)": await time(() => result.toText()),
      "records (toRecords)": await time(() => result.toRecords()),
      "JSON text of the records": await time(() => JSON.stringify(result.toRecords())),
      "CSV text (toCSV)": await time(() => result.toCSV()),
      "CSV file (toCSV(path))": await time(() => result.toCSV(set.file)),
      "dataframe (toDataFrame)": await time(() => result.toDataFrame()),
    };
    report.sets.push({
      name: set.name,
      rows: set.rows,
      columns: Object.keys(result.toRecords()[0]).length,
      csvBytes: statSync(set.file).size,
      htmlChars: result.toHTML().length,
      figures,
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const ms = (n) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
console.log(
  `Results as data (${report.node}, ${report.cpu}; median of ${REPS} after a warm-up, [min–max] ms)`,
);
console.log(`  arquero's first import (fresh process): ${ms(report.arqueroImportMs.median)} ms`);
for (const set of report.sets) {
  console.log(
    `\n  ${set.name} (${set.columns} columns; CSV ${(set.csvBytes / 1e6).toFixed(2)} MB; the table's HTML ${(set.htmlChars / 1e3).toFixed(0)} k chars: 20 of the rows)`,
  );
  for (const [label, s] of Object.entries(set.figures)) {
    console.log(`    ${label.padEnd(30)} ${ms(s.median).padStart(8)} ms  [${ms(s.min)}–${ms(s.max)}]`);
  }
}
writeFileSync(RESULTS, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nfigures in ${fileURLToPath(RESULTS)}`);
