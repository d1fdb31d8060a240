/**
 * connect() options: defaults, the IBKR_* environment variables, and every invalid value refused
 * with an InvalidArgumentError naming the field, before a socket is opened.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROKER_PORTS, type ConnectOptions, resolveOptions } from "../../src/connection/options";
import { InvalidArgumentError } from "../../src/errors";
import { connect } from "../../src/ib";
import { Harness, rejection, sleep, thrown } from "./helpers";

const NO_ENV = {};

describe("defaults", () => {
  it("paper broker: TWS 7497 then Gateway 4002 on loopback, client id 2, read-only", () => {
    const o = resolveOptions({}, NO_ENV);
    expect(o.broker).toBe("ibkr-paper");
    expect(o.host).toBe("127.0.0.1");
    expect(o.ports).toEqual([7497, 4002]);
    expect(o.explicitPort).toBe(false);
    expect(o.clientId).toBe(2);
    expect(o.trading).toBe(false);
    expect(o.allowLive).toBe(false);
    expect(o.reconnect).toBe(true);
    expect(o.keepaliveMs).toBe(20_000);
    expect(o.liveOrdersPerMinute).toBe(10);
    expect(o.feedMaxPerSecond).toBe(4);
    expect(o.account).toBeUndefined();
  });

  it("live broker: TWS 7496 then Gateway 4001", () => {
    expect(resolveOptions({ broker: "ibkr-live" }, NO_ENV).ports).toEqual([7496, 4001]);
    expect(BROKER_PORTS["ibkr-live"]).toEqual([7496, 4001]);
  });

  it("an explicit port wins over the broker's ports", () => {
    const o = resolveOptions({ broker: "ibkr-live", port: 4999 }, NO_ENV);
    expect(o.ports).toEqual([4999]);
    expect(o.explicitPort).toBe(true);
  });

  it('clientId "auto" and numeric ids pass through', () => {
    expect(resolveOptions({ clientId: "auto" }, NO_ENV).clientId).toBe("auto");
    expect(resolveOptions({ clientId: 0 }, NO_ENV).clientId).toBe(0);
    expect(resolveOptions({ clientId: 17 }, NO_ENV).clientId).toBe(17);
  });

  it("feedMaxPerSecond takes any rate above 0 up to 1000, fractions too", () => {
    expect(resolveOptions({ feedMaxPerSecond: 80 }, NO_ENV).feedMaxPerSecond).toBe(80);
    expect(resolveOptions({ feedMaxPerSecond: 0.5 }, NO_ENV).feedMaxPerSecond).toBe(0.5);
    expect(resolveOptions({ feedMaxPerSecond: 1000 }, NO_ENV).feedMaxPerSecond).toBe(1000);
  });

  it("allowLive is accepted with the live broker", () => {
    const o = resolveOptions({ broker: "ibkr-live", trading: true, allowLive: true }, NO_ENV);
    expect(o.allowLive).toBe(true);
    expect(o.trading).toBe(true);
  });
});

describe("IBKR_* environment variables", () => {
  it("supply broker, host, port and client id", () => {
    const o = resolveOptions(
      {},
      { IBKR_BROKER: "ibkr-live", IBKR_HOST: "10.1.2.3", IBKR_PORT: "4001", IBKR_CLIENT_ID: "9" },
    );
    expect(o.broker).toBe("ibkr-live");
    expect(o.host).toBe("10.1.2.3");
    expect(o.ports).toEqual([4001]);
    expect(o.explicitPort).toBe(true);
    expect(o.clientId).toBe(9);
  });

  it("IBKR_BROKER alone switches the port list; IBKR_CLIENT_ID=auto works", () => {
    const o = resolveOptions({}, { IBKR_BROKER: "ibkr-live", IBKR_CLIENT_ID: "auto" });
    expect(o.ports).toEqual([7496, 4001]);
    expect(o.clientId).toBe("auto");
  });

  it("arguments win over the environment", () => {
    const o = resolveOptions(
      { broker: "ibkr-paper", host: "127.0.0.1", port: 7497, clientId: 4 },
      { IBKR_BROKER: "ibkr-live", IBKR_HOST: "10.1.2.3", IBKR_PORT: "4001", IBKR_CLIENT_ID: "9" },
    );
    expect(o).toMatchObject({ broker: "ibkr-paper", host: "127.0.0.1", ports: [7497], clientId: 4 });
  });

  it("blank variables count as unset (as `IBKR_PORT= jupyter lab` leaves them)", () => {
    const o = resolveOptions({}, { IBKR_BROKER: "", IBKR_HOST: " ", IBKR_PORT: " ", IBKR_CLIENT_ID: "" });
    expect(o).toMatchObject({ broker: "ibkr-paper", host: "127.0.0.1", ports: [7497, 4002], clientId: 2 });
  });

  it.each([
    [{ IBKR_BROKER: "ibkr-demo" }, "IBKR_BROKER"],
    [{ IBKR_PORT: "abc" }, "IBKR_PORT"],
    [{ IBKR_PORT: "70000" }, "IBKR_PORT"],
    [{ IBKR_PORT: "0" }, "IBKR_PORT"],
    [{ IBKR_PORT: "74.97" }, "IBKR_PORT"],
    [{ IBKR_CLIENT_ID: "-1" }, "IBKR_CLIENT_ID"],
    [{ IBKR_CLIENT_ID: "two" }, "IBKR_CLIENT_ID"],
    [{ IBKR_HOST: "my host" }, "IBKR_HOST"],
  ])("invalid %j is refused naming %s", (env, field) => {
    const error = thrown(() => resolveOptions({}, env));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe(field);
    expect((error as InvalidArgumentError).what).toContain(field);
  });
});

describe("invalid options", () => {
  const cases: Array<[string, ConnectOptions, string]> = [
    ["a broker that does not exist", { broker: "ibkr-demo" as never }, "broker"],
    ["port 0", { port: 0 }, "port"],
    ["port 70000", { port: 70000 }, "port"],
    ["port NaN", { port: Number.NaN }, "port"],
    ['port "abc"', { port: "abc" as never }, "port"],
    ["port 7497.5", { port: 7497.5 }, "port"],
    ["clientId -1", { clientId: -1 }, "clientId"],
    ["clientId 1.5", { clientId: 1.5 }, "clientId"],
    ['clientId "x"', { clientId: "x" as never }, "clientId"],
    ["an unknown option", { prot: 7497 } as never, "prot"],
    ["allowLive with the paper broker", { allowLive: true }, "allowLive"],
    ["allowLive with the paper broker, explicitly", { broker: "ibkr-paper", allowLive: true }, "allowLive"],
    ["a bad account id", { account: "paper-1" }, "account"],
    ["a lowercase account id", { account: "du1234567" }, "account"],
    ["an empty host", { host: "" }, "host"],
    ["timeoutMs 0", { timeoutMs: 0 }, "timeoutMs"],
    ["keepaliveMs -5", { keepaliveMs: -5 }, "keepaliveMs"],
    ['trading "yes"', { trading: "yes" as never }, "trading"],
    ["liveOrdersPerMinute 0", { liveOrdersPerMinute: 0 }, "liveOrdersPerMinute"],
    ["feedMaxPerSecond 0", { feedMaxPerSecond: 0 }, "feedMaxPerSecond"],
    ["feedMaxPerSecond -4", { feedMaxPerSecond: -4 }, "feedMaxPerSecond"],
    ["feedMaxPerSecond 1001", { feedMaxPerSecond: 1001 }, "feedMaxPerSecond"],
    ["feedMaxPerSecond NaN", { feedMaxPerSecond: Number.NaN }, "feedMaxPerSecond"],
    ["feedMaxPerSecond Infinity", { feedMaxPerSecond: Number.POSITIVE_INFINITY }, "feedMaxPerSecond"],
    ['feedMaxPerSecond "4"', { feedMaxPerSecond: "4" as never }, "feedMaxPerSecond"],
  ];

  it.each(cases)("%s → InvalidArgumentError naming the field", (_name, options, field) => {
    const error = thrown(() => resolveOptions(options, NO_ENV));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe(field);
    expect((error as InvalidArgumentError).what.startsWith(`${field}:`)).toBe(true);
    expect((error as InvalidArgumentError).todo.length).toBeGreaterThan(10);
  });

  it("options that are not an object are refused", () => {
    expect(thrown(() => resolveOptions(42 as never, NO_ENV))).toBeInstanceOf(InvalidArgumentError);
  });

  it("the unknown-option message lists the known ones", () => {
    const error = thrown(() => resolveOptions({ clientID: 3 } as never, NO_ENV)) as InvalidArgumentError;
    expect(error.todo).toContain("clientId");
  });
});

describe("validated before any socket opens", () => {
  const h = new Harness();
  beforeAll(() => h.start());
  afterAll(() => h.stop());

  it.each([
    ["port 70000", { port: 70000 }],
    ["clientId -1", { clientId: -1 }],
    ["clientId 1.5", { clientId: 1.5 }],
    ["bad broker", { broker: "tws" as never }],
    ["unknown key", { verbose: true } as never],
    ["allowLive on paper", { allowLive: true }],
    ["bad account", { account: "nope" }],
    ["feedMaxPerSecond 0", { feedMaxPerSecond: 0 }],
  ])("connect() with %s rejects and the simulator sees no connection", async (_name, bad) => {
    const before = h.connections;
    const options = { port: h.sim.port, ...(bad as ConnectOptions) };
    const error = await rejection(connect(options));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    await sleep(50); // a socket opened by mistake would have been accepted by now
    expect(h.connections).toBe(before);
    expect(h.sim.sessionInfo()).toEqual([]);
  });
});
