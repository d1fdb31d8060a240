/**
 * The client side of the benchmark, run in a process of its own (see remote-client.mjs) so that
 * reading and counting frames never competes with the server under test for its event loop. The
 * parent sends one command at a time over IPC and gets one reply per command.
 */
import { connect as netConnect } from "node:net";
import ib from "@stoqey/ib";
import { simulator } from "ibkr-notebook";
import { CLIENT_HELLO, messageId, reqMktData, startApi } from "./wire.mjs";

const { FrameReader } = simulator.protocol;
const HOST = "127.0.0.1";

function elapsedMs(start) {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function openSocket(port) {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: HOST, port, noDelay: true }, () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

// ── handshakes ────────────────────────────────────────────────────────────────────────────────

/**
 * Connect, hello, server version, startApi, nextValidId: what every TWS client does before its
 * first request. The clock runs from before connect() until nextValidId has arrived.
 */
function twsHandshake(port, clientId) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const reader = new FrameReader();
    let greeted = false;
    const socket = netConnect({ host: HOST, port, noDelay: true }, () => socket.write(CLIENT_HELLO));
    socket.on("error", reject);
    socket.on("data", (chunk) => {
      for (const payload of reader.push(chunk)) {
        if (!greeted) {
          greeted = true; // the server-version frame
          socket.write(startApi(clientId));
        } else if (messageId(payload) === "9") {
          resolve(elapsedMs(start));
          socket.destroy();
          return;
        }
      }
    });
  });
}

/** The floor under a handshake: connect and the same two round trips, to a server that only echoes. */
function echoHandshake(port, clientId) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const second = startApi(clientId);
    let expected = CLIENT_HELLO.length;
    let received = 0;
    const socket = netConnect({ host: HOST, port, noDelay: true }, () => socket.write(CLIENT_HELLO));
    socket.on("error", reject);
    socket.on("data", (chunk) => {
      received += chunk.length;
      if (received < expected) return;
      if (expected === CLIENT_HELLO.length) {
        expected += second.length;
        socket.write(second);
        return;
      }
      resolve(elapsedMs(start));
      socket.destroy();
    });
  });
}

/** The real @stoqey/ib client: IBApi.connect() until its nextValidId event. */
function stoqeyHandshake(port, clientId) {
  return new Promise((resolve, reject) => {
    const api = new ib.IBApi({ host: HOST, port });
    const start = process.hrtime.bigint();
    api.once(ib.EventName.nextValidId, () => {
      resolve(elapsedMs(start));
      api.disconnect();
    });
    api.once(ib.EventName.error, (error, code) => {
      if (code !== undefined && code >= 2100) return; // farm-status notices are not failures
      reject(error);
      api.disconnect();
    });
    api.connect(clientId);
  });
}

const HANDSHAKES = { tws: twsHandshake, echo: echoHandshake, stoqey: stoqeyHandshake };

/** `count` sequential handshakes of one kind, each with its own client id; durations in ms. */
async function handshakes({ kind, port, count, firstClientId }) {
  const durations = [];
  for (let i = 0; i < count; i++) durations.push(await HANDSHAKES[kind](port, firstClientId + i));
  return durations;
}

// ── streaming load ────────────────────────────────────────────────────────────────────────────

/** Connections by group ("sim", "ceiling"), each counting every frame and byte it receives. */
const groups = new Map();
/** Set while the parent waits for a group to reach given totals. */
let waiter;

function groupTotals(name) {
  let frames = 0;
  let bytes = 0;
  for (const c of groups.get(name) ?? []) {
    frames += c.frames;
    bytes += c.bytes;
  }
  return { frames, bytes };
}

/**
 * A TWS client that does the handshake, subscribes its market-data lines, then only counts frames
 * (FrameReader splits them; fields are not decoded, which keeps the client ahead of the server).
 */
async function loadClient(port, clientId, conIds, firstReqId) {
  const socket = await openSocket(port);
  const c = { socket, reader: new FrameReader(), frames: 0, bytes: 0 };
  const started = new Promise((resolve, reject) => {
    let greeted = false;
    c.watch = (payload) => {
      if (!greeted) {
        greeted = true;
        socket.write(startApi(clientId));
      } else if (messageId(payload) === "9") {
        c.watch = undefined;
        resolve();
      }
    };
    socket.on("error", reject); // stays: a reset later shows up as missing frames, not a crash
  });
  socket.on("data", (chunk) => {
    c.bytes += chunk.length;
    const frames = c.reader.push(chunk);
    c.frames += frames.length;
    if (c.watch) for (const payload of frames) c.watch?.(payload);
    waiter?.();
  });
  socket.write(CLIENT_HELLO);
  await started;
  socket.write(Buffer.concat(conIds.map((conId, i) => reqMktData(firstReqId + i, conId))));
  return c;
}

/** Opens a group's connections one after another (the servers match them up by connection order). */
async function connect({ group, port, clients }) {
  const connections = [];
  groups.set(group, connections);
  for (const { clientId, conIds } of clients) connections.push(await loadClient(port, clientId, conIds, 1));
  return groupTotals(group);
}

/** Replies once the group has received at least the given totals, or with what it has after a timeout. */
function awaitTotals({ group, frames, bytes, timeoutMs }) {
  return new Promise((resolve) => {
    const finish = (complete) => {
      clearTimeout(timer);
      waiter = undefined;
      resolve({ ...groupTotals(group), complete });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    waiter = () => {
      const have = groupTotals(group);
      if (have.frames >= frames && have.bytes >= bytes) finish(true);
    };
    waiter();
  });
}

function disconnect({ group }) {
  for (const c of groups.get(group) ?? []) c.socket.destroy();
  groups.delete(group);
  return null;
}

// ── IPC ───────────────────────────────────────────────────────────────────────────────────────

const COMMANDS = { handshakes, connect, awaitTotals, disconnect };

process.on("message", async ({ id, command, args }) => {
  try {
    process.send({ id, result: await COMMANDS[command](args) });
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) });
  }
});
