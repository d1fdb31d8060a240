/**
 * Starts what the browser tests run against, and returns the teardown that stops it:
 *
 * 1. checks Debian's Chromium, the venv's JupyterLab, the notebooks' tslab and the built simulator;
 * 2. writes the tslab kernelspec into .venv, as scripts/demo.sh does, when it is missing or differs;
 * 3. starts ibkr-sim with notebooks/demo-account.json on a free loopback port;
 * 4. makes a throw-away root folder whose node_modules links to notebooks/node_modules (so the
 *    kernels resolve ibkr-notebook and tslab as in notebooks/; the tracked notebooks are never opened
 *    in place: the tests upload a copy into their own subfolder);
 * 5. starts JupyterLab (jupyter_server_test_config.py) on a free loopback port with that root, the
 *    kernels inheriting IBKR_BROKER=ibkr-paper and the simulator's IBKR_PORT.
 *
 * The URL goes to the tests through IBKR_UI_BASE_URL (workers inherit the runner's environment).
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(__dirname, "..");
const CHROMIUM = "/usr/bin/chromium";
const VENV = join(REPO, ".venv");
const JUPYTER = join(VENV, "bin", "jupyter");
const NOTEBOOKS = join(REPO, "notebooks");
const TSLAB = join(NOTEBOOKS, "node_modules", ".bin", "tslab");
const SIM_CLI = join(REPO, "kernel-lib", "dist", "simulator", "cli.js");
const SCENARIO = join(NOTEBOOKS, "demo-account.json");
const START_MS = 60_000;
const STOP_MS = 20_000;

function need(path: string, what: string, fix: string): void {
  if (!existsSync(path)) throw new Error(`ui-tests: ${what} (${path}) is missing: ${fix}`);
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM to the process (JupyterLab shuts its kernels down), then SIGKILL to its group. */
async function stop(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child?.pid || exited(child)) return;
  child.kill("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (!exited(child) && Date.now() < deadline) await sleep(100);
  try {
    process.kill(-child.pid, "SIGKILL"); // whatever is left in its process group
  } catch {
    // the group is gone
  }
}

/** The tslab kernelspec inside the venv, exactly as scripts/demo.sh writes it. */
function ensureKernelspec(): void {
  const dir = join(VENV, "share", "jupyter", "kernels", "tslab");
  const file = join(dir, "kernel.json");
  const spec = `{
  "argv": ["${TSLAB}", "kernel", "--config-path", "{connection_file}"],
  "display_name": "TypeScript",
  "language": "typescript"
}
`;
  if (existsSync(file) && readFileSync(file, "utf8") === spec) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, spec);
}

async function startSimulator(logs: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [SIM_CLI, "--port", "0", "--scenario", SCENARIO], {
    cwd: REPO,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (chunk) => {
    out += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    out += chunk;
  });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && !exited(child)) {
    const match = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
    if (match) {
      logs.push(`ibkr-sim on 127.0.0.1:${match[1]}`);
      return { child, port: Number(match[1]) };
    }
    await sleep(50);
  }
  await stop(child, 1000);
  throw new Error(`ui-tests: ibkr-sim did not start:\n${out}`);
}

async function startJupyterLab(
  root: string,
  simPort: number,
  logFile: string,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    IBKR_BROKER: "ibkr-paper",
    IBKR_PORT: String(simPort),
    IBKR_UI_LAB_PORT: String(port),
    JUPYTERLAB_GALATA_ROOT_DIR: root,
    JUPYTER_PREFER_ENV_PATH: "1", // the venv's kernelspecs (tslab) before any of the user's own
    JUPYTER_CONFIG_DIR: join(root, "..", "jupyter-config"), // none of the user's Jupyter settings
    JUPYTER_RUNTIME_DIR: join(root, "..", "jupyter-runtime"),
    TMPDIR: join(root, "..", "tmp"), // Galata's config makes temporary folders; they go with ours
  };
  delete env.IBKR_HOST;
  delete env.IBKR_CLIENT_ID;
  const child = spawn(
    JUPYTER,
    ["lab", "--config", join(__dirname, "jupyter_server_test_config.py"), "--no-browser"],
    { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  const keep = (chunk: Buffer) => {
    log += chunk;
    writeFileSync(logFile, log);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_MS;
  while (Date.now() < deadline && !exited(child)) {
    try {
      const response = await fetch(`${url}/api/status`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return { child, url };
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  await stop(child, 5000);
  throw new Error(`ui-tests: JupyterLab did not start in ${START_MS / 1000} s:\n${log.slice(-3000)}`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  need(
    CHROMIUM,
    "Debian's Chromium",
    "run scripts/ensure-chromium.sh (apt-get install chromium); no browser is downloaded",
  );
  need(JUPYTER, "the venv's JupyterLab", "run `make test` (or `make demo`), which installs it");
  need(TSLAB, "the notebooks' tslab", "run `npm ci --prefix notebooks`");
  need(SIM_CLI, "the built simulator", "run `npm run build`");
  ensureKernelspec();

  const work = mkdtempSync(join(tmpdir(), "ibkr-ui-tests-"));
  const root = join(work, "root");
  mkdirSync(root);
  mkdirSync(join(work, "tmp"));
  symlinkSync(join(NOTEBOOKS, "node_modules"), join(root, "node_modules"), "dir");
  const logs: string[] = [];
  let sim: { child: ChildProcess; port: number } | undefined;
  let lab: { child: ChildProcess; url: string };
  try {
    sim = await startSimulator(logs);
    lab = await startJupyterLab(root, sim.port, join(work, "jupyterlab.log"));
  } catch (error) {
    await stop(sim?.child, 2000);
    if (!process.env.IBKR_UI_KEEP) rmSync(work, { recursive: true, force: true });
    throw error;
  }
  process.env.IBKR_UI_BASE_URL = lab.url;
  console.log(`ui-tests: ${logs.join("; ")}; JupyterLab on ${lab.url} (root ${root})`);

  const running = { lab: lab.child, sim: sim.child };
  return async () => {
    await stop(running.lab, STOP_MS);
    await stop(running.sim, 2000);
    if (!process.env.IBKR_UI_KEEP) rmSync(work, { recursive: true, force: true });
  };
}
