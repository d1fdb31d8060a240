/**
 * The client side of the library benchmark, in a process of its own (forked with --expose-gc by
 * library.mjs): the library (`connect()`, `ib.positions()`) and what a raw @stoqey/ib user writes
 * for the same answer, against a simulator in the parent. One command at a time over IPC, one reply
 * each. The heap is collected between timed runs so that neither side pays for the other's garbage.
 */
import ib from "@stoqey/ib";
import { connect } from "ibkr-notebook";

const { EventName, IBApi } = ib;
const HOST = "127.0.0.1";

const now = () => process.hrtime.bigint();
const msSince = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const collect = () => (process.env.NOGC ? undefined : globalThis.gc?.());

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
      api.on(EventName.error, () => {}); // an IBApi without an error listener throws on the next one
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

const SIDES = {
  raw: {
    connect: rawConnect,
    positions: rawPositions,
    count: (positions) => positions.size,
    close: (api) => api.disconnect(),
  },
  library: {
    connect: libraryConnect,
    positions: (lib) => lib.positions(),
    count: (positions) => positions.length,
    close: (lib) => lib.close(),
  },
};

// ── commands ──────────────────────────────────────────────────────────────────────────────────

/** `count` sequential connections, each with its own client id: ms from connect to ready. */
async function connects({ side, port, firstClientId, count }) {
  const { connect, close } = SIDES[side];
  const durations = [];
  for (let i = 0; i < count; i++) {
    collect();
    const start = now();
    const client = await connect(port, firstClientId + i);
    durations.push(msSince(start));
    close(client);
  }
  return durations;
}

/**
 * Fresh connections, each timed from connect until every position is in hand ("cold"), then asked
 * again on the same connection ("warm": the library answers from its state, raw downloads again).
 */
async function positions({ side, port, firstClientId, count, expect }) {
  const s = SIDES[side];
  const runs = [];
  for (let i = 0; i < count; i++) {
    collect();
    const start = now();
    const client = await s.connect(port, firstClientId + i);
    const cold = await s.positions(client);
    const coldMs = msSince(start);
    const again = now();
    const warm = await s.positions(client);
    const warmMs = msSince(again);
    s.close(client);
    if (s.count(cold) !== expect || s.count(warm) !== expect) {
      throw new Error(`${side}: got ${s.count(cold)} / ${s.count(warm)} positions, expected ${expect}`);
    }
    runs.push({ coldMs, warmMs });
  }
  return runs;
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
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the closed socket go
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

const COMMANDS = { connects, positions, memory };

process.on("message", async ({ id, command, args }) => {
  try {
    process.send({ id, result: await COMMANDS[command](args) });
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) });
  }
});

// The parent is done with us (memory runs keep their connections open to the end).
process.on("disconnect", () => process.exit(0));
