/**
 * A byte-level TWS API client for tests that need to send what no real client library would: bad
 * openings, unknown ids, malformed fields, oversized or truncated frames. It speaks the same codec
 * as the simulator (encodeClientHello / encodeFrame / FrameReader / decodeFields) and records every
 * frame the server sends, with its arrival time.
 */
import { connect, type Socket } from "node:net";
import { decodeFields, encodeClientHello, encodeFrame, FrameReader } from "../../src/simulator/protocol";

export interface RawFrame {
  fields: string[];
  /** performance.now() when the bytes arrived. */
  at: number;
}

export interface RawError {
  id: number;
  code: number;
  message: string;
}

type Waiter = { test: (fields: string[]) => boolean; resolve: (fields: string[]) => void };

export class RawClient {
  readonly frames: RawFrame[] = [];
  /** Every byte the server sent, framed or not. */
  bytesReceived = 0;
  /** Set when the server's bytes could not be framed (a simulator bug). */
  framingError: Error | undefined;
  isClosed = false;
  private readonly reader = new FrameReader();
  private waiters: Waiter[] = [];
  private readonly closedPromise: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => {}); // a reset is a close here; tests look at isClosed
    this.closedPromise = new Promise((resolve) =>
      socket.once("close", () => {
        this.isClosed = true;
        resolve();
      }),
    );
  }

  /** Opens the TCP connection only; nothing is sent. */
  static open(port: number, timeoutMs = 2000): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to 127.0.0.1:${port} timed out`));
      }, timeoutMs);
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(new RawClient(socket));
      });
    });
  }

  /**
   * Opens a connection and completes the opening: "API\0" + version range, the server's version
   * frame, startApi. Resolves once nextValidId arrived (or, with `awaitReady: false`, right after
   * startApi was written).
   */
  static async connect(
    port: number,
    clientId: number,
    options: { minVersion?: number; maxVersion?: number; awaitReady?: boolean } = {},
  ): Promise<RawClient> {
    const client = await RawClient.open(port);
    client.write(encodeClientHello(options.minVersion ?? 100, options.maxVersion ?? 176));
    await client.waitFor((f) => f.length === 2, 2000); // server version, connection time
    client.send("71", "2", String(clientId), "");
    if (options.awaitReady ?? true) await client.waitFor((f) => f[0] === "9", 2000);
    return client;
  }

  /** The negotiated server version (first frame). */
  get serverVersion(): number {
    return Number(this.frames[0]?.fields[0]);
  }

  private onData(chunk: Buffer): void {
    const at = performance.now();
    this.bytesReceived += chunk.length;
    if (this.framingError) return;
    let payloads: Buffer[];
    try {
      payloads = this.reader.push(chunk);
    } catch (error) {
      this.framingError = error as Error;
      return;
    }
    for (const payload of payloads) {
      const fields = decodeFields(payload);
      this.frames.push({ fields, at });
      const matched = this.waiters.filter((w) => w.test(fields));
      this.waiters = this.waiters.filter((w) => !matched.includes(w));
      for (const w of matched) w.resolve(fields);
    }
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** One frame with these fields. */
  send(...fields: string[]): void {
    this.write(encodeFrame(fields));
  }

  /** The first frame (already received or still to come) that passes `test`. */
  waitFor(test: (fields: string[]) => boolean, timeoutMs = 2000): Promise<string[]> {
    const seen = this.frames.find((f) => test(f.fields));
    if (seen) return Promise.resolve(seen.fields);
    return this.waitForNext(test, timeoutMs);
  }

  /** The first frame from now on that passes `test`. */
  waitForNext(test: (fields: string[]) => boolean, timeoutMs = 2000): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        test,
        resolve: (fields) => {
          clearTimeout(timer);
          resolve(fields);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frameIds())}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The message id of every frame received, in order. */
  frameIds(): string[] {
    return this.frames.map((f) => f.fields[0] ?? "");
  }

  /** Error / notice frames (message id 4, version 2): id, code, text. */
  errors(): RawError[] {
    return this.frames
      .filter((f) => f.fields[0] === "4")
      .map(({ fields }) => ({ id: Number(fields[2]), code: Number(fields[3]), message: fields[4] ?? "" }));
  }

  /** Waits for an error or notice with this code. */
  async waitForError(code: number, timeoutMs = 2000): Promise<RawError> {
    await this.waitFor((f) => f[0] === "4" && f[3] === String(code), timeoutMs);
    return this.errors().find((e) => e.code === code) as RawError;
  }

  /** Sends reqCurrentTime and resolves with the server's epoch seconds. */
  async currentTime(timeoutMs = 2000): Promise<number> {
    const from = this.frames.length;
    this.send("49", "1");
    await this.waitForNext((f) => f[0] === "49", timeoutMs);
    const answer = this.frames.slice(from).find((f) => f.fields[0] === "49");
    return Number(answer?.fields[2]);
  }

  /** Resolves true once the server closed the socket, false if it is still open after `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([this.closedPromise.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Polls `condition` until it holds; rejects after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 2000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** reqMktData (id 1, version 11) for a SMART/USD stock, as a v176 client writes it. */
export function mktDataRequest(reqId: number, symbol: string, snapshot = false): string[] {
  return [
    "1",
    "11",
    String(reqId),
    "0",
    symbol,
    "STK",
    "",
    "",
    "",
    "",
    "SMART",
    "",
    "USD",
    "",
    "",
    "0",
    "",
    snapshot ? "1" : "0",
    "0",
    "",
  ];
}
