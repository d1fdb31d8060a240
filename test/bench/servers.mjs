/**
 * The servers under test and their baselines, all on loopback in this process:
 * - the simulator, stepped by the benchmark (its clock is stopped);
 * - the ceiling: a bare TCP server that writes the simulator's own bytes, captured beforehand, with no
 *   model and no encoding, to the same client harness;
 * - an echo server, the floor under a handshake.
 * Every server socket's writes are counted (WriteLog) so that what was sent can be checked against
 * what the client received.
 */
import { once } from "node:events";
import { createServer } from "node:net";
import { simulator, TwsSimulator } from "ibkr-notebook";
import { countFrames, messageId } from "./wire.mjs";

const { FrameReader, encodeFrame } = simulator.protocol;
const HOST = "127.0.0.1";

/** Counts the frames and bytes handed to a server socket's write(); can keep the written chunks. */
class WriteLog {
  frames = 0;
  bytes = 0;
  /** While an array, every chunk written is kept in it (whole frames, one write per step). */
  recording;

  constructor(socket) {
    this.socket = socket;
    const write = socket.write.bind(socket);
    socket.write = (chunk, ...rest) => {
      this.frames += countFrames(chunk);
      this.bytes += chunk.length;
      this.recording?.push(chunk);
      return write(chunk, ...rest);
    };
  }
}

/** Base of the two streaming servers: their sockets, in connection order, and what they sent. */
class StreamingTarget {
  /** One WriteLog per accepted connection. */
  logs = [];

  totals() {
    let frames = 0;
    let bytes = 0;
    for (const log of this.logs) {
      frames += log.frames;
      bytes += log.bytes;
    }
    return { frames, bytes };
  }

  /** A socket whose buffer is over its high-water mark (write() returned false), if any. */
  congested() {
    return this.logs.find((log) => log.socket.writableNeedDrain)?.socket;
  }
}

/** The simulator's options for the streaming runs: clocks stopped, the benchmark steps it. */
export const STREAMING_OPTIONS = {
  tickIntervalMs: 0,
  accountUpdateIntervalMs: 0,
  pnlIntervalMs: 0,
  // IB's 50 requests/s would make subscribing 100 lines take 2 s; it limits requests, not ticks.
  messageRateLimit: 10_000,
};

/** The simulator with its clock stopped; each step() moves every price once and sends the ticks. */
export class SimTarget extends StreamingTarget {
  static async start() {
    return new SimTarget(await TwsSimulator.start({ port: 0, ...STREAMING_OPTIONS }));
  }

  constructor(sim) {
    super();
    this.sim = sim;
    sim.on("connection", (session) => this.logs.push(new WriteLog(session.socket)));
  }

  get port() {
    return this.sim.port;
  }

  /** conIds of the simulator's instruments, to spread subscriptions over. */
  get conIds() {
    return this.sim.universe.instruments.map((i) => i.details.contract.conId);
  }

  /** True once the simulator has taken on `lines` market-data subscriptions. */
  subscribed(lines) {
    return this.sim.linesInUse() >= lines;
  }

  step() {
    this.sim.step();
  }

  /** Starts keeping what each connection is sent, one chunk per step; call stop to get it. */
  record() {
    for (const log of this.logs) log.recording = [];
    return () =>
      this.logs.map((log) => {
        const chunks = log.recording;
        log.recording = undefined;
        return chunks;
      });
  }

  close() {
    return this.sim.close();
  }
}

/**
 * The ceiling: answers the handshake with the fewest frames a client accepts, then on each step()
 * writes the next captured simulator chunk to each connection, cycling. Same bytes, same writes,
 * no model and no encoding: what Node's sockets and the client harness allow.
 */
export class CeilingTarget extends StreamingTarget {
  static async start(chunksByConnection) {
    const target = new CeilingTarget(chunksByConnection);
    target.server.listen(0, HOST);
    await once(target.server, "listening");
    return target;
  }

  #chunks;
  #next = 0;
  #lines = 0;

  constructor(chunksByConnection) {
    super();
    this.#chunks = chunksByConnection;
    this.server = createServer((socket) => this.#accept(socket));
  }

  get port() {
    return this.server.address().port;
  }

  #accept(socket) {
    socket.setNoDelay(true);
    const log = new WriteLog(socket);
    this.logs.push(log);
    const reader = new FrameReader({ expectApiPrefix: true });
    let greeted = false;
    socket.on("data", (chunk) => {
      for (const payload of reader.push(chunk)) {
        if (!greeted) {
          greeted = true;
          socket.write(encodeFrame(["176", "20250101 09:30:00 EST"]));
        } else if (messageId(payload) === "71") {
          socket.write(encodeFrame(["9", "1", "1"]));
        } else if (messageId(payload) === "1") {
          this.#lines++;
        }
      }
    });
  }

  subscribed(lines) {
    return this.#lines >= lines;
  }

  step() {
    this.logs.forEach((log, i) => {
      const chunks = this.#chunks[i];
      log.socket.write(chunks[this.#next % chunks.length]);
    });
    this.#next++;
  }

  close() {
    for (const log of this.logs) log.socket.destroy();
    return new Promise((resolve) => this.server.close(resolve));
  }
}

/** The floor under a handshake: a server that writes back whatever it reads. */
export async function startEchoServer() {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on("data", (chunk) => socket.write(chunk));
    socket.on("error", () => {});
  });
  server.listen(0, HOST);
  await once(server, "listening");
  return server;
}
