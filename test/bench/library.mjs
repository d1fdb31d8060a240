/**
 * The library against raw @stoqey/ib, in one run, on the same in-process simulator (issue 3: "no
 * worse than 1.2× raw"): connect-to-ready; connect + every position for 10 / 1,000 / 10,000
 * positions; and the memory a client process grows by to hold 10,000 positions. The clients run in
 * a child process (library-client.mjs, with --expose-gc) so that the simulator's work and memory
 * stay out of the client's figures; library and raw alternate so drift affects both alike.
 *
 * Raw is the minimum a @stoqey/ib user writes: IBApi.connect → nextValidId → reqPositions →
 * positionEnd, positions collected into a Map. The library is `await connect()` then
 * `await ib.positions()`, which on a fresh connection waits for the standing reqPositions download
 * the library starts when the connection is ready.
 */
import { simulator, TwsSimulator } from "ibkr-notebook";
import { RemoteClient } from "./remote-client.mjs";
import { summarize } from "./stats.mjs";

const { parseScenario, Universe } = simulator;
const CLIENT = new URL("./library-client.mjs", import.meta.url);
const CLIENT_OPTIONS = { execArgv: ["--expose-gc"] };
const SIDES = ["library", "raw"];
const ACCOUNT = "DU1000001";

/** Clocks stopped: no ticks, account or P&L pushes compete with the downloads being timed. */
export const QUIET = { tickIntervalMs: 0, accountUpdateIntervalMs: 0, pnlIntervalMs: 0 };

/** One account holding `count` positions, in as many synthetic stocks. */
function positionsScenario(count) {
  return parseScenario(
    {
      syntheticStocks: count,
      accounts: [
        {
          id: ACCOUNT,
          cash: 1_000_000,
          positions: Array.from({ length: count }, (_, i) => ({
            contract: `SYN${String(i + 1).padStart(5, "0")}`,
            quantity: (i % 2 === 0 ? 1 : -1) * (100 + i),
            avgCost: 10 + (i % 400),
          })),
        },
      ],
    },
    new Universe(),
  );
}

function startSimulator(positions) {
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

function compare(library, raw, aim) {
  const ratio = library.median / raw.median;
  return { library, raw, ratio, met: ratio <= aim };
}

/** Sequential connections, library and raw in alternating blocks, after a warm-up of each. */
async function measureConnects(client, { count, warmup, blocks }) {
  const sim = await startSimulator();
  const run = (side, n) =>
    client.request("connects", { side, port: sim.port, firstClientId: clientIds(n), count: n });
  const samples = { library: [], raw: [] };
  try {
    for (const side of SIDES) await run(side, warmup);
    for (let block = 0; block < blocks; block++) {
      for (const side of block % 2 === 0 ? SIDES : [...SIDES].reverse()) {
        samples[side].push(...(await run(side, Math.ceil(count / blocks))));
      }
    }
  } finally {
    await sim.close();
  }
  return { library: summarize(samples.library), raw: summarize(samples.raw) };
}

/** Connect + positions, fresh connections, library and raw alternating one run at a time. */
async function measurePositions(client, { positions, reps, warmup }) {
  const sim = await startSimulator(positions);
  const run = (side) =>
    client.request("positions", {
      side,
      port: sim.port,
      firstClientId: clientIds(1),
      count: 1,
      expect: positions,
    });
  const runs = { library: [], raw: [] };
  try {
    for (let i = 0; i < warmup; i++) for (const side of SIDES) await run(side);
    for (let i = 0; i < reps; i++) {
      for (const side of i % 2 === 0 ? SIDES : [...SIDES].reverse()) runs[side].push(...(await run(side)));
    }
  } finally {
    await sim.close();
  }
  const cold = (side) => summarize(runs[side].map((r) => r.coldMs));
  const warm = (side) => summarize(runs[side].map((r) => r.warmMs));
  return {
    positions,
    reps,
    cold: { library: cold("library"), raw: cold("raw") },
    warm: { library: warm("library"), raw: warm("raw") },
  };
}

/**
 * Memory to hold `positions` positions: each run in a fresh client process, library and raw
 * alternating; the median over runs of what heapUsed and RSS grew by (see library-client.mjs).
 */
async function measureMemory({ positions, runs }) {
  const sim = await startSimulator(positions);
  const warmupSim = await startSimulator(10);
  const results = { library: [], raw: [] };
  try {
    for (let i = 0; i < runs; i++) {
      for (const side of i % 2 === 0 ? SIDES : [...SIDES].reverse()) {
        const client = new RemoteClient(CLIENT, CLIENT_OPTIONS);
        try {
          results[side].push(
            await client.request("memory", {
              side,
              port: sim.port,
              warmupPort: warmupSim.port,
              clientId: clientIds(2),
              expect: positions,
            }),
          );
        } finally {
          client.close();
        }
      }
    }
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

/** The whole comparison; `config` as in run.mjs. Ratios are library / raw, of medians. */
export async function measureLibrary(config) {
  const started = performance.now();
  const { aim } = config;
  const client = new RemoteClient(CLIENT, CLIENT_OPTIONS);
  try {
    const connects = await measureConnects(client, config.connects);
    const positions = [];
    for (const size of config.positions) positions.push(await measurePositions(client, size));
    const memory = await measureMemory(config.memory);
    return {
      aim,
      connect: compare(connects.library, connects.raw, aim),
      positions: positions.map((p) => ({
        positions: p.positions,
        reps: p.reps,
        ...compare(p.cold.library, p.cold.raw, aim),
        warm: p.warm,
      })),
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
