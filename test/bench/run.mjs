/**
 * Two sections, each against a baseline measured in the same run, loopback only, the client side in
 * a child process:
 * 1. ibkr-sim: handshake time and sustained market-data rate to 1 and to 10 clients (about 50 s);
 *    figures in test/bench/results/simulator.json.
 * 2. the ibkr-notebook library against raw @stoqey/ib on the simulator: connect to ready, connect +
 *    positions for 10 / 1,000 / 10,000 positions, memory for 10,000 (library.mjs; about 15 s);
 *    figures in test/bench/results/library.json.
 * `--quick`: a few seconds each, rough figures.
 *
 *   npm run bench            # builds first
 *   node test/bench/run.mjs  # uses kernel-lib/dist as built
 */
import { cpus } from "node:os";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { measureHandshakes } from "./handshake.mjs";
import { measureLibrary, QUIET } from "./library.mjs";
import { RemoteClient } from "./remote-client.mjs";
import { formatLibraryReport, formatReport, writeJson } from "./report.mjs";
import { STREAMING_OPTIONS } from "./servers.mjs";
import { measureThroughput } from "./throughput.mjs";

const RESULTS = new URL("./results/simulator.json", import.meta.url);
const LIBRARY_RESULTS = new URL("./results/library.json", import.meta.url);
const quick = process.argv.includes("--quick");

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
  connects: { count: quick ? 10 : 40, warmup: quick ? 4 : 20 },
  positions: [
    { positions: 10, reps: quick ? 4 : 30, warmup: quick ? 2 : 20 },
    { positions: 1_000, reps: quick ? 3 : 20, warmup: quick ? 1 : 10 },
    { positions: 10_000, reps: quick ? 2 : 10, warmup: quick ? 1 : 5 },
  ],
  memory: { positions: 10_000, runs: quick ? 1 : 3 },
  simulator: QUIET,
};

function machine() {
  const cores = cpus();
  return {
    cpu: cores[0]?.model ?? "unknown",
    cores: cores.length,
    node: process.version,
    platform: process.platform,
  };
}

async function main() {
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
  } finally {
    client.close();
  }
  console.log("");
  await libraryMain();
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
}

await main();
