/**
 * Runs one of ui-tests/bench's specs with Playwright and the browser tests' start-up (JupyterLab
 * from .venv with jupyterlab-ibkr, Debian's Chromium, the notebooks' tslab), bounded in time. Shared
 * by the panel benchmarks (panel.mjs) and the simulated hour (page-hour.mjs).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const UI_TESTS = path("../../ui-tests");
const PLAYWRIGHT = path("../../ui-tests/node_modules/.bin/playwright");

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

/** Why the browser benchmarks cannot run here, or undefined when they can. */
export function unavailable() {
  return NEEDS.find(([file]) => !existsSync(file))?.[1];
}

/**
 * Runs `spec` (a file name in ui-tests/bench) with `env` added; Playwright stops the run after
 * `globalTimeoutMs`, and this process kills it 30 s later if it has not. Echoes the spec's
 * "panel bench:" lines; a failure throws with the end of Playwright's output.
 */
export async function runBenchSpec(spec, env, globalTimeoutMs) {
  try {
    const { stdout } = await promisify(execFile)(
      PLAYWRIGHT,
      ["test", "-c", "playwright.bench.config.ts", `--global-timeout=${globalTimeoutMs}`, spec],
      {
        cwd: UI_TESTS,
        env: { ...process.env, ...env },
        timeout: globalTimeoutMs + 30_000,
        maxBuffer: 16 << 20,
      },
    );
    for (const line of stdout.split("\n")) if (line.startsWith("panel bench:")) console.log(`  ${line}`);
  } catch (error) {
    const output = `${error.stdout ?? ""}${error.stderr ?? ""}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(`${spec} (Playwright) failed: ${error.message.split("\n")[0]}\n${output}`);
  }
}
