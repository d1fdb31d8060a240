/**
 * connect() against the simulator: what it resolves with, the ports it tries, the errors a user sees
 * when nothing listens, when the client id is taken, during the login / 2FA window, and close().
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hostKind, resolveOptions } from "../../src/connection/options";
import {
  ClientIdInUseError,
  ConnectionRefusedError,
  HandshakeTimeoutError,
  InvalidArgumentError,
  NotConnectedError,
} from "../../src/errors";
import { connect, IB } from "../../src/ib";
import { deadPort, Harness, recordStates, rejection, scenario, sleep, until } from "./helpers";

const h = new Harness();
beforeEach(() => h.start());
afterEach(() => h.stop());

describe("connect()", () => {
  it("resolves when ready with the accounts, server version, port and kind", async () => {
    const ib = await h.connect();
    expect(ib.state.state).toBe("connected");
    expect(ib.accounts).toEqual(["DU1234567"]);
    expect(ib.serverVersion).toBe(176);
    expect(ib.port).toBe(h.sim.port);
    expect(ib.clientId).toBe(2); // the default
    expect(ib.kind).toBe("unknown"); // a test port is neither TWS's nor Gateway's
    expect(ib.state.lastConnectedAt).toBeInstanceOf(Date);
    expect(ib.isLive).toBe(false);
    expect(h.sim.clients().map((s) => s.clientId)).toEqual([2]);
    // Ready means TWS sent the accounts and the next order id. A read-only connection asks for
    // nothing more until something needs it: positions() starts the positions download.
    await sleep(50);
    expect(h.sim.received(2).map((r) => r.type)).toEqual(["startApi"]);
    await ib.positions();
    expect(h.sim.received(2).map((r) => r.type)).toEqual(["startApi", "reqPositions"]);
    await expect(ib.ready()).resolves.toBe(ib);
  });

  it("a trading connection follows its orders and the day's fills from the start", async () => {
    const ib = await h.connect({ trading: true });
    await until(() => h.sim.received(2).length >= 3, 2000, "the order downloads");
    expect(h.sim.received(2).map((r) => r.type)).toEqual(["startApi", "reqOpenOrders", "reqExecutions"]);
    expect(ib.readOnlyApi).toBe(false);
  });

  it("state events: connecting, then connected", async () => {
    const ib = h.track(new IB(resolveOptions({ port: h.sim.port }, {})));
    expect(ib.state.state).toBe("disconnected");
    const states = recordStates(ib);
    await ib.open();
    expect(states.map((s) => s.state)).toEqual(["connecting", "connected"]);
    expect(states[0]?.reason).toContain(`127.0.0.1:${h.sim.port}`);
    expect(states[1]?.accounts).toEqual(["DU1234567"]);
  });

  it("names the host program from the port", () => {
    expect(hostKind(7497)).toBe("TWS");
    expect(hostKind(7496)).toBe("TWS");
    expect(hostKind(4002)).toBe("IB Gateway");
    expect(hostKind(4001)).toBe("IB Gateway");
    expect(hostKind(5555)).toBe("unknown");
  });

  it("uses the client id asked for", async () => {
    const ib = await h.connect({ clientId: 11 });
    expect(ib.clientId).toBe(11);
    expect(h.sim.clients().map((s) => s.clientId)).toEqual([11]);
  });

  it("accepts an account option the login manages", async () => {
    await h.sim.close();
    await h.start({
      scenario: scenario({ accounts: [{ id: "DU1111111" }, { id: "DU2222222" }] }),
    });
    const ib = await h.connect({ account: "DU2222222" });
    expect(ib.accounts).toEqual(["DU1111111", "DU2222222"]);
    expect(ib.options.account).toBe("DU2222222");
  });

  it("refuses an account the login does not manage, and disconnects", async () => {
    const error = await rejection(h.connect({ account: "DU7654321" }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe("account");
    expect((error as InvalidArgumentError).what).toContain("DU1234567"); // lists what the login has
    await until(() => h.sim.clients().length === 0, 2000, "the connection to close");
  });
});

describe("ports", () => {
  it("nothing listening → ConnectionRefusedError listing the port and what to check", async () => {
    const port = await deadPort();
    const error = await rejection(connect({ port, timeoutMs: 1000 }));
    expect(error).toBeInstanceOf(ConnectionRefusedError);
    const refused = error as ConnectionRefusedError;
    expect(refused.ports).toEqual([port]);
    expect(refused.code).toBe(502);
    expect(refused.what).toContain(`127.0.0.1 port ${port}`);
    expect(refused.what).toContain('"ibkr-paper"');
    expect(refused.todo).toContain("Global Configuration → API → Settings");
    expect(refused.todo).toContain("Enable ActiveX and Socket Clients");
    expect(refused.todo).toContain(`nc -z 127.0.0.1 ${port}`);
  });

  it("the broker's ports are tried in order, and every one is listed when all refuse", async () => {
    const [a, b] = [await deadPort(), await deadPort()];
    const ib = new IB({ ...resolveOptions({ timeoutMs: 1000 }, {}), ports: [a, b] });
    const states = recordStates(ib);
    const error = await rejection(ib.open());
    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect((error as ConnectionRefusedError).ports).toEqual([a, b]);
    expect((error as ConnectionRefusedError).what).toContain(`ports ${a}, ${b}`);
    expect(states.map((s) => s.state)).toEqual(["connecting", "disconnected"]);
    expect(ib.state.state).toBe("disconnected");
  });

  it("moves on to the next port when the first refuses (TWS down, Gateway up)", async () => {
    const dead = await deadPort();
    const ib = h.track(
      new IB({ ...resolveOptions({ port: h.sim.port }, {}), ports: [dead, h.sim.port], explicitPort: false }),
    );
    await ib.open();
    expect(ib.port).toBe(h.sim.port);
    expect(ib.state.state).toBe("connected");
  });

  it("the live broker's refusal says so", async () => {
    const port = await deadPort();
    const ib = new IB({ ...resolveOptions({ broker: "ibkr-live" }, {}), ports: [port] });
    const error = (await rejection(ib.open())) as ConnectionRefusedError;
    expect(error.broker).toBe("ibkr-live");
    expect(error.todo).toContain("7496");
    expect(error.todo).toContain('broker: "ibkr-paper"');
  });
});

describe("client id in use (326)", () => {
  it("refuses the second connection with ClientIdInUseError and leaves the first untouched", async () => {
    const first = await h.connect({ clientId: 5 });
    const states = recordStates(first);
    const error = await rejection(h.connect({ clientId: 5 }));
    expect(error).toBeInstanceOf(ClientIdInUseError);
    const inUse = error as ClientIdInUseError;
    expect(inUse.code).toBe(326);
    expect(inUse.clientId).toBe(5);
    expect(inUse.todo).toContain("clientId: 6");
    expect(inUse.todo).toContain('"auto"');
    // No retry loop: one refused attempt, nothing more.
    await sleep(300);
    expect(h.sim.sessionInfo().filter((s) => s.state !== "closed")).toHaveLength(1);
    expect(states).toEqual([]);
    expect(first.state.state).toBe("connected");
    await expect(first.positions()).resolves.toEqual([]);
    expect(h.sim.clients().map((s) => s.clientId)).toEqual([5]);
  });

  it('clientId "auto" takes the next free id from 2 up', async () => {
    const two = await h.connect(); // 2
    const three = await h.connect({ clientId: 3 });
    const auto = await h.connect({ clientId: "auto" });
    expect(auto.clientId).toBe(4);
    expect(
      h.sim
        .clients()
        .map((s) => s.clientId)
        .sort(),
    ).toEqual([2, 3, 4]);
    expect(two.state.state).toBe("connected");
    expect(three.state.state).toBe("connected");
    const first = await h.connect({ clientId: "auto" });
    expect(first.clientId).toBe(5);
  });

  it('"auto" with 2 free takes 2', async () => {
    const auto = await h.connect({ clientId: "auto" });
    expect(auto.clientId).toBe(2);
  });
});

describe("login / 2FA window", () => {
  it("a window longer than timeoutMs → HandshakeTimeoutError that says to finish the login", async () => {
    h.sim.loginWindow(5000);
    const started = performance.now();
    const error = await rejection(h.connect({ timeoutMs: 400 }));
    const took = performance.now() - started;
    expect(error).toBeInstanceOf(HandshakeTimeoutError);
    const timeout = error as HandshakeTimeoutError;
    expect(timeout.what).toContain("within 400 ms");
    expect(timeout.what).toMatch(/login or 2FA/);
    expect(timeout.todo).toMatch(/login or second-factor prompt/);
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(1500);
    await until(() => h.sim.clients().length === 0, 2000, "the held connection to be dropped");
  });

  it("a window shorter than timeoutMs → connect waits it out and resolves", async () => {
    h.sim.loginWindow(300);
    const started = performance.now();
    const ib = await h.connect({ timeoutMs: 3000 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(ib.state.state).toBe("connected");
    expect(ib.accounts).toEqual(["DU1234567"]);
  });
});

describe("a port that accepts but never speaks the API", () => {
  let server: Server;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("→ HandshakeTimeoutError: no answer to the API hello", async () => {
    server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const error = await rejection(connect({ port, timeoutMs: 300 }));
    expect(error).toBeInstanceOf(HandshakeTimeoutError);
    expect((error as HandshakeTimeoutError).what).toContain("no answer to the API hello");
    expect((error as HandshakeTimeoutError).port).toBe(port);
  });
});

describe("close()", () => {
  it("disconnects for good: state disconnected, nothing sent afterwards, no reconnect, no live handles", async () => {
    const handlesBefore = process.getActiveResourcesInfo().length;
    const ib = await h.connect({ keepaliveMs: 100 });
    const states = recordStates(ib);
    ib.ticker("AAPL");
    await until(() => h.sent("reqCurrentTime", 2).length >= 1, 2000, "a keepalive");
    ib.close();
    expect(ib.state.state).toBe("disconnected");
    expect(ib.state.reason).toBe("closed by user");
    expect(states.map((s) => s.state)).toEqual(["disconnected"]);
    await until(() => h.sim.clients().length === 0, 2000, "the simulator to see the close");
    const requestsAtClose = h.requests.length;
    const connectionsAtClose = h.connections;
    await sleep(500); // five keepalive intervals and more than the first backoff steps
    expect(h.requests.length).toBe(requestsAtClose);
    expect(h.connections).toBe(connectionsAtClose);
    expect(states.map((s) => s.state)).toEqual(["disconnected"]);
    expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(handlesBefore);

    await expect(ib.positions()).rejects.toBeInstanceOf(NotConnectedError);
    await expect(ib.ready(100)).rejects.toBeInstanceOf(NotConnectedError);
    expect(() => ib.ticker("MSFT")).toThrow(NotConnectedError);
    ib.close(); // twice is fine
    expect(states).toHaveLength(1);
  });

  it("SIGTERM (a kernel restart) closes every open connection", async () => {
    const a = await h.connect({ clientId: 7 });
    const b = await h.connect({ clientId: 8 });
    // Stand in for the process's other SIGTERM handlers so the test worker itself is not stopped.
    const others = process.listeners("SIGTERM");
    process.removeAllListeners("SIGTERM");
    const library = others.filter((l) => l.name === "onSigterm");
    for (const l of library) process.on("SIGTERM", l);
    const keepAlive = () => {};
    process.on("SIGTERM", keepAlive);
    try {
      process.emit("SIGTERM", "SIGTERM");
    } finally {
      process.removeAllListeners("SIGTERM");
      for (const l of others) if (!library.includes(l)) process.on("SIGTERM", l);
    }
    expect(library).toHaveLength(1);
    expect(a.state.state).toBe("disconnected");
    expect(a.state.reason).toBe("the process is shutting down");
    expect(b.state.state).toBe("disconnected");
    await until(() => h.sim.clients().length === 0, 2000, "both connections to close");
  });
});
