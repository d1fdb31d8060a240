/**
 * The library against raw @stoqey/ib, in one run, on the same in-process simulator (issue 3: "no
 * worse than 1.2× raw"): connect-to-ready; connect + every position for 10 / 1,000 / 10,000
 * positions; and the memory a client process grows by to hold 10,000 positions. The clients run in
 * a child process (library-client.mjs, with --expose-gc) so that the simulator's work and memory
 * stay out of the client's figures; library and raw alternate run by run, after a warm-up of each,
 * so that drift in the machine's load affects both alike.
 *
 * Raw is the minimum a @stoqey/ib user writes: IBApi.connect → nextValidId → reqPositions →
 * positionEnd, positions collected into a Map. The library is `await connect()` then
 * `await ib.positions()`, which starts the standing positions download (a read-only connection
 * downloads nothing before something needs it) and waits for it.
 */
import { TwsSimulator } from "ibkr-notebook";
import { positionsScenario, QUIET } from "./books.cjs";
import { RemoteClient } from "./remote-client.mjs";
import { summarize } from "./stats.mjs";

const CLIENT = new URL("./library-client.mjs", import.meta.url);
const CLIENT_OPTIONS = { execArgv: ["--expose-gc"] };
const SIDES = ["library", "raw"];

export function startSimulator(positions) {
  const scenario = positions === undefined ? undefined : positionsScenario(positions);
  return TwsSimulator.start({ port: 0, ...QUIET, scenario });
}

/** Client ids are never reused in a run: a closed id is free again at once, but this needs no care. */
let nextClientId = 100;
function clientIds(count) {
  const first = nextClientId;
  nextClientId += count;
  return first;
}

/** Library against raw on one figure: both summaries and the ratio of medians against the aim. */
function compare(library, raw, aim) {
  const ratio = library.median / raw.median;
  return { library, raw, ratio, met: ratio <= aim };
}

/** Elapsed time compared against the aim; the client's CPU and GC time per run as information. */
function compareRuns(runs, aim) {
  const of = (side, key) => summarize(runs[side].map((r) => r[key]));
  const cpu = { library: of("library", "cpuMs"), raw: of("raw", "cpuMs") };
  return {
    ...compare(of("library", "ms"), of("raw", "ms"), aim),
    cpu: { ...cpu, ratio: cpu.library.median / cpu.raw.median },
    gc: { library: of("library", "gcMs"), raw: of("raw", "gcMs") },
  };
}

/** Sequential connections, library and raw alternating, after a warm-up of each. */
async function measureConnects(client, { count, warmup }, aim) {
  const sim = await startSimulator();
  try {
    const plan = { port: sim.port, count, warmup };
    const runs = await client.request("connects", {
      ...plan,
      firstClientId: clientIds(2 * (count + warmup)),
      sides: ["library", "raw"],
    });
    // Then, apart, a trading connection (it follows its orders and fills from the start) against raw
    // asking the same at nextValidId: each run leaves the simulator answering what it asked, so
    // these sides would change what the aim's two follow if they shared its rotation.
    const same = await client.request("connects", {
      ...plan,
      firstClientId: clientIds(2 * (count + warmup)),
      sides: ["libraryTrading", "rawAsking"],
    });
    const trading = {
      library: summarize(same.libraryTrading.map((r) => r.ms)),
      raw: summarize(same.rawAsking.map((r) => r.ms)),
    };
    trading.ratio = trading.library.median / trading.raw.median;
    return { ...compareRuns(runs, aim), trading };
  } finally {
    await sim.close();
  }
}

/** Connect + positions on fresh connections, library and raw alternating, after a warm-up of each. */
async function measurePositions(client, { positions, reps, warmup }, aim) {
  const sim = await startSimulator(positions);
  try {
    const firstClientId = clientIds(2 * (reps + warmup));
    const runs = await client.request("positions", {
      port: sim.port,
      firstClientId,
      count: reps,
      warmup,
      expect: positions,
    });
    const warm = (side) => summarize(runs[side].map((r) => r.warmMs));
    return {
      positions,
      reps,
      ...compareRuns(runs, aim),
      warm: { library: warm("library"), raw: warm("raw") },
    };
  } finally {
    await sim.close();
  }
}

/**
 * `runs` rounds of one request per side, each in a fresh client process, library and raw
 * alternating; `request(side)` gives the command and its arguments. Returns each side's answers.
 */
async function inFreshProcesses(runs, request) {
  const results = { library: [], raw: [] };
  for (let i = 0; i < runs; i++) {
    for (const side of i % 2 === 0 ? SIDES : [...SIDES].reverse()) {
      const client = new RemoteClient(CLIENT, CLIENT_OPTIONS);
      try {
        const { command, args } = request(side);
        results[side].push(await client.request(command, args));
      } finally {
        client.close();
      }
    }
  }
  return results;
}

/**
 * Memory to hold `positions` positions: each run in a fresh client process; the median over runs
 * of what heapUsed and RSS grew by (see library-client.mjs).
 */
async function measureMemory({ positions, runs }) {
  const sim = await startSimulator(positions);
  const warmupSim = await startSimulator(10);
  let results;
  try {
    results = await inFreshProcesses(runs, (side) => ({
      command: "memory",
      args: { side, port: sim.port, warmupPort: warmupSim.port, clientId: clientIds(2), expect: positions },
    }));
  } finally {
    await Promise.all([sim.close(), warmupSim.close()]);
  }
  const describe = (side) => ({
    heapUsedBytes: summarize(results[side].map((r) => r.heapUsedBytes)),
    rssBytes: summarize(results[side].map((r) => r.rssBytes)),
    baselineHeapUsedBytes: summarize(results[side].map((r) => r.baselineHeapUsedBytes)),
    baselineRssBytes: summarize(results[side].map((r) => r.baselineRssBytes)),
  });
  return { positions, runs, library: describe("library"), raw: describe("raw") };
}

/** The first connect in a fresh client process (information, no aim): `runs` processes per side. */
async function measureFirstConnects({ runs }) {
  const sim = await startSimulator();
  let results;
  try {
    results = await inFreshProcesses(runs, (side) => ({
      command: "firstConnect",
      args: { side, port: sim.port, clientId: clientIds(1) },
    }));
  } finally {
    await sim.close();
  }
  const library = summarize(results.library.map((r) => r.ms));
  const raw = summarize(results.raw.map((r) => r.ms));
  return { runs, library, raw, ratio: library.median / raw.median };
}

/** The whole comparison; `config` as in run.mjs. Ratios are library / raw, of medians. */
export async function measureLibrary(config) {
  const started = performance.now();
  const { aim } = config;
  const client = new RemoteClient(CLIENT, CLIENT_OPTIONS);
  try {
    const connect = await measureConnects(client, config.connects, aim);
    const firstConnect = await measureFirstConnects(config.firstConnects);
    const positions = [];
    for (const size of config.positions) positions.push(await measurePositions(client, size, aim));
    const memory = await measureMemory(config.memory);
    return {
      aim,
      connect,
      firstConnect,
      positions,
      memory: {
        positions: memory.positions,
        runs: memory.runs,
        heapUsed: compare(memory.library.heapUsedBytes, memory.raw.heapUsedBytes, aim),
        rss: {
          library: memory.library.rssBytes,
          raw: memory.raw.rssBytes,
          ratio: memory.library.rssBytes.median / memory.raw.rssBytes.median,
        },
        baseline: {
          library: { heapUsed: memory.library.baselineHeapUsedBytes, rss: memory.library.baselineRssBytes },
          raw: { heapUsed: memory.raw.baselineHeapUsedBytes, rss: memory.raw.baselineRssBytes },
        },
      },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    client.close();
  }
}
