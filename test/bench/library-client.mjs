/**
 * The client side of the library benchmark, in a process of its own (forked with --expose-gc by
 * library.mjs): the library (`connect()`, `ib.positions()`) and what a raw @stoqey/ib user writes
 * for the same answer, against a simulator in the parent. One command at a time over IPC, one reply
 * each.
 */
import { PerformanceObserver } from "node:perf_hooks";
import ib from "@stoqey/ib";
import { connect } from "ibkr-notebook";

const { EventName, IBApi } = ib;
const HOST = "127.0.0.1";

const now = () => process.hrtime.bigint();
const msSince = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const collect = () => globalThis.gc?.();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** The pause after a full collection before a timed run. */
const SETTLE_MS = 10;

// ── the raw @stoqey/ib client: the minimum a user writes ──────────────────────────────────────

/** IBApi.connect() until nextValidId, the first moment a raw client may send requests. */
function rawConnect(port, clientId) {
  return new Promise((resolve, reject) => {
    const api = new IBApi({ host: HOST, port });
    const fail = (error, code) => {
      if (code !== undefined && code >= 2100) return; // farm-status notices are not failures
      api.disconnect();
      reject(error);
    };
    api.on(EventName.error, fail);
    api.once(EventName.nextValidId, () => {
      api.off(EventName.error, fail);
      resolve(api);
    });
    api.connect(clientId);
  });
}

/**
 * IBApi.connect() until nextValidId, then, there, the two requests a trading connection of the
 * library sends when it is ready (this client's open orders, the day's executions), as a raw user
 * who follows orders writes it: the same work before "ready", for an information figure.
 */
function rawConnectAndAsk(port, clientId) {
  return new Promise((resolve, reject) => {
    const api = new IBApi({ host: HOST, port });
    const fail = (error, code) => {
      if (code !== undefined && code >= 2100) return;
      api.disconnect();
      reject(error);
    };
    api.on(EventName.error, fail);
    api.once(EventName.nextValidId, () => {
      api.off(EventName.error, fail);
      api.reqOpenOrders();
      api.reqExecutions(1, {});
      resolve(api);
    });
    api.connect(clientId);
  });
}

/** reqPositions until positionEnd, every position kept in a Map by account and conId. */
function rawPositions(api) {
  return new Promise((resolve) => {
    const positions = new Map();
    const onPosition = (account, contract, pos, avgCost) =>
      positions.set(`${account}/${contract.conId}`, { account, contract, pos, avgCost });
    api.on(EventName.position, onPosition);
    api.once(EventName.positionEnd, () => {
      api.off(EventName.position, onPosition);
      resolve(positions);
    });
    api.reqPositions();
  });
}

// ── the library ───────────────────────────────────────────────────────────────────────────────

/** connect() as a notebook calls it, on an explicit port; no reconnects once the benchmark closes it. */
function libraryConnect(port, clientId) {
  return connect({ host: HOST, port, clientId, reconnect: false });
}

/** connect() with trading: it follows its orders and the day's fills from the start. */
function libraryTradingConnect(port, clientId) {
  return connect({ host: HOST, port, clientId, reconnect: false, trading: true });
}

const SIDES = {
  raw: {
    connect: rawConnect,
    positions: rawPositions,
    count: (positions) => positions.size,
    close: (api) => api.disconnect(),
  },
  rawAsking: {
    connect: rawConnectAndAsk,
    close: (api) => api.disconnect(),
  },
  libraryTrading: {
    connect: libraryTradingConnect,
    close: (lib) => lib.close(),
  },
  library: {
    connect: libraryConnect,
    positions: (lib) => lib.positions(),
    count: (positions) => positions.length,
    close: (lib) => lib.close(),
  },
};

// ── commands ──────────────────────────────────────────────────────────────────────────────────

/** Milliseconds spent in garbage collection so far (entries arrive shortly after each pause). */
let gcTotalMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcTotalMs += entry.duration;
}).observe({ entryTypes: ["gc"] });

/** Elapsed, CPU and GC time of one timed step of this process. */
function stopwatch() {
  const start = now();
  const cpu = process.cpuUsage();
  const gc = gcTotalMs;
  return async () => {
    const ms = msSince(start);
    const used = process.cpuUsage(cpu);
    await new Promise((resolve) => setImmediate(resolve)); // let the observer hear of the last pauses
    return { ms, cpuMs: (used.user + used.system) / 1000, gcMs: gcTotalMs - gc };
  };
}

/**
 * Each side's client from its previous run, held until its next run is over. A notebook holds its
 * connection for the session, and @stoqey/ib's rate-limit timer holds a closed IBApi for 100 ms
 * anyway; without this, only the library's objects died between runs, the forced collection before
 * each run freed their hidden classes, and every library run paid to build them again (100+ µs for
 * `new IB` alone). Held alike for both sides, so neither pays it.
 */
const previous = { library: undefined, raw: undefined, libraryTrading: undefined, rawAsking: undefined };

/**
 * Runs `once(side, clientId)` for each side in turn, `warmup` times each untimed, then `count`
 * times each, the order rotating every round (library, raw; raw, library … or with three sides
 * a, b, c; b, c, a; c, a, b …), each side first, middle and last as often, so that a change in the
 * machine's load affects all alike. Every call gets a client id of its own.
 */
async function alternate({ firstClientId, count, warmup }, once, sides = ["library", "raw"]) {
  let clientId = firstClientId;
  for (let i = 0; i < warmup; i++) for (const side of sides) await once(side, clientId++);
  const runs = Object.fromEntries(sides.map((side) => [side, []]));
  for (let i = 0; i < count; i++) {
    const turn = i % sides.length;
    for (const side of [...sides.slice(turn), ...sides.slice(0, turn)]) {
      runs[side].push(await once(side, clientId++));
    }
  }
  return runs;
}

/** Connect to ready, then close: elapsed and CPU ms of each of `sides`, alternating. */
function connects({ port, sides, ...plan }) {
  return alternate(
    plan,
    async (side, clientId) => {
      const { connect, close } = SIDES[side];
      const stop = stopwatch();
      const client = await connect(port, clientId);
      const run = await stop();
      close(client);
      previous[side] = client;
      return run;
    },
    sides,
  );
}

/**
 * A fresh connection timed from connect until every position is in hand ("cold"), then asked again
 * on the same connection ("warm": the library answers from its state, raw downloads again). Before
 * each, a full collection and a short pause for V8 to finish sweeping in the background, so that
 * neither side pays for the garbage of the run before (10,000 positions leave several MB of it).
 */
function positions({ port, expect, ...plan }) {
  return alternate(plan, async (side, clientId) => {
    const s = SIDES[side];
    collect();
    await sleep(SETTLE_MS);
    const stop = stopwatch();
    const client = await s.connect(port, clientId);
    const cold = await s.positions(client);
    const run = await stop();
    const again = stopwatch();
    const warm = await s.positions(client);
    const { ms: warmMs } = await again();
    s.close(client);
    previous[side] = client;
    if (s.count(cold) !== expect || s.count(warm) !== expect) {
      throw new Error(`${side}: got ${s.count(cold)} / ${s.count(warm)} positions, expected ${expect}`);
    }
    return { ...run, warmMs };
  });
}

/**
 * The first connect of a fresh process, its modules loaded but none of their code run yet: what a
 * notebook kernel pays on `await connect()` in its first cell (code compiled on first use, nothing
 * optimized). Run once per fresh process.
 */
async function firstConnect({ side, port, clientId }) {
  const s = SIDES[side];
  const stop = stopwatch();
  const client = await s.connect(port, clientId);
  const run = await stop();
  s.close(client);
  return run;
}

/** Held until the process ends, so that what the measurement kept stays reachable. */
const kept = [];

/**
 * The heap and RSS this process grows by to hold `expect` positions: after a warm-up round on a
 * small simulator (code loaded and compiled, lazy tables built) and a full collection, connect,
 * get the positions and keep both the connection and the result, collect again, compare. Run once
 * per fresh process.
 */
async function memory({ side, port, warmupPort, clientId, expect }) {
  if (!globalThis.gc) throw new Error("memory needs --expose-gc");
  const s = SIDES[side];
  const warm = await s.connect(warmupPort, clientId);
  await s.positions(warm);
  s.close(warm);
  await sleep(50); // let the closed socket go
  collect();
  collect();
  const before = process.memoryUsage();
  const client = await s.connect(port, clientId + 1);
  const held = await s.positions(client);
  if (s.count(held) !== expect)
    throw new Error(`${side}: got ${s.count(held)} positions, expected ${expect}`);
  kept.push(client, held);
  collect();
  collect();
  const after = process.memoryUsage();
  return {
    heapUsedBytes: after.heapUsed - before.heapUsed,
    rssBytes: after.rss - before.rss,
    externalBytes: after.external - before.external,
    baselineHeapUsedBytes: before.heapUsed,
    baselineRssBytes: before.rss,
  };
}

const COMMANDS = { connects, positions, memory, firstConnect };

process.on("message", async ({ id, command, args }) => {
  try {
    process.send({ id, result: await COMMANDS[command](args) });
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) });
  }
});

// The parent is done with us (memory runs keep their connections open to the end).
process.on("disconnect", () => process.exit(0));
