/**
 * The second baseline: Python's ib_async (the repository's .venv, test/python/requirements.txt)
 * connecting to the same simulator and running its connect-and-sync, IB.connect(), for 10 / 1,000
 * / 10,000 positions (ib_async_client.py). "full" is ib_async's default sync (positions, open and
 * completed orders, account updates with the portfolio, executions); "like" asks what the
 * library's connect() asks (positions, open orders, executions). Skipped, with the reason, where
 * the venv or ib_async is missing.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startSimulator } from "./library.mjs";
import { summarize } from "./stats.mjs";

const run = promisify(execFile);
const PYTHON = fileURLToPath(new URL("../../.venv/bin/python", import.meta.url));
const SCRIPT = fileURLToPath(new URL("./ib_async_client.py", import.meta.url));

/** Client ids of their own, apart from the library benchmark's (100 up). */
let nextClientId = 5_000;

/** Why the baseline cannot run here, or undefined when it can. */
async function unavailable() {
  if (!existsSync(PYTHON)) return "no Python venv at .venv (make test creates it)";
  try {
    await run(PYTHON, ["-c", "import ib_async"], { timeout: 30_000 });
  } catch (error) {
    return `ib_async does not import in .venv: ${String(error.stderr || error.message)
      .trim()
      .split("\n")
      .at(-1)}`;
  }
  return undefined;
}

/** `sizes`: [{ positions, reps, warmup }]. */
export async function measureIbAsync({ sizes }) {
  const started = performance.now();
  const skipped = await unavailable();
  if (skipped) return { skipped };
  const results = [];
  let version;
  let python;
  for (const { positions, reps, warmup } of sizes) {
    const sim = await startSimulator(positions);
    try {
      const firstClientId = nextClientId;
      nextClientId += 2 * (reps + warmup);
      const args = [SCRIPT, sim.port, firstClientId, warmup, reps, positions].map(String);
      const { stdout } = await run(PYTHON, args, { timeout: 300_000, maxBuffer: 1 << 20 });
      const out = JSON.parse(stdout.trim().split("\n").at(-1));
      version = out.version;
      python = out.python;
      results.push({
        positions,
        reps,
        full: summarize(out.runs.full),
        like: summarize(out.runs.like),
      });
    } finally {
      await sim.close();
    }
  }
  return { version, python, sizes: results, seconds: (performance.now() - started) / 1000 };
}
