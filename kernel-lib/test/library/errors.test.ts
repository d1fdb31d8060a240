/**
 * How errors read in a notebook: tslab prints a thrown error with console.error, i.e. through
 * util.inspect, so each class prints its name, IB code, what happened and what to do — no stack.
 * Also the mapping from IB's codes to the classes a user sees.
 */
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  ClientIdInUseError,
  ConnectionRefusedError,
  ConnectivityLostError,
  fromIbError,
  HandshakeTimeoutError,
  IbApiError,
  IbkrError,
  InvalidArgumentError,
  isNotice,
  MarketDataLinesError,
  MissingDependencyError,
  NoSecurityDefinitionError,
  NotConnectedError,
  OrderRejectedError,
  PacingError,
  ProtocolError,
  ReadOnlyApiError,
  RequestTimeoutError,
  TradingGuardError,
} from "../../src/errors";
import * as library from "../../src/index";

const examples: Array<[string, IbkrError, number | undefined]> = [
  ["IbkrError", new IbkrError({ code: 1, what: "Something happened.", todo: "Do this." }), 1],
  [
    "InvalidArgumentError",
    new InvalidArgumentError("port", "must be a whole number", "Use 7497."),
    undefined,
  ],
  ["ConnectionRefusedError", new ConnectionRefusedError("127.0.0.1", [7497, 4002], "ibkr-paper"), 502],
  ["ClientIdInUseError", new ClientIdInUseError(2), 326],
  [
    "HandshakeTimeoutError",
    new HandshakeTimeoutError("127.0.0.1", 7497, 5000, "no managed accounts"),
    undefined,
  ],
  ["NotConnectedError", new NotConnectedError("reconnecting", "socket closed"), 504],
  [
    "ConnectivityLostError",
    new ConnectivityLostError(1100, "Connectivity between IB and TWS has been lost."),
    1100,
  ],
  ["NoSecurityDefinitionError", new NoSecurityDefinitionError('"ZZZZ"', 7), 200],
  ["MarketDataLinesError", new MarketDataLinesError(100), 101],
  ["PacingError", new PacingError(162, "Historical Market Data Service error message:Pacing violation"), 162],
  ["OrderRejectedError", new OrderRejectedError(201, "Order rejected - reason:no permissions", 12), 201],
  ["ReadOnlyApiError", new ReadOnlyApiError("to list open orders"), 321],
  [
    "TradingGuardError",
    new TradingGuardError({ what: "This connection is read-only.", todo: "Use trading: true." }),
    undefined,
  ],
  [
    "ProtocolError",
    new ProtocolError({
      code: 507,
      problem: "the message does not end with a NUL",
      excerpt: "49|1|17000",
      dropsConnection: true,
      host: "127.0.0.1",
      port: 7497,
    }),
    507,
  ],
  ["RequestTimeoutError", new RequestTimeoutError("positions", 10_000), undefined],
  ["IbApiError", new IbApiError(354, "Requested market data is not subscribed.", 3), 354],
  [
    "MissingDependencyError",
    new MissingDependencyError("arquero", "toDataFrame()", "npm install arquero@8"),
    undefined,
  ],
];

describe("util.inspect (what a notebook prints)", () => {
  it.each(examples)("%s prints name, code, what and what to do, without a stack", (name, error, code) => {
    const printed = inspect(error);
    const head = code === undefined ? `${name}: ` : `${name} (IB ${code}): `;
    expect(printed).toBe(`${head}${error.what}\n  → ${error.todo}`);
    expect(printed).not.toMatch(/\n\s+at /);
    expect(printed.split("\n")).toHaveLength(2);
    // The stack is still there for whoever wants it; the message carries everything for logs.
    expect(error.stack).toMatch(/\n\s+at /);
    expect(error.message).toContain(error.what);
    if (code !== undefined) expect(error.message).toContain(`[${code}]`);
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(IbkrError);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
  });

  it("every error class the package exports is covered above", () => {
    const exported = Object.entries(library)
      .filter(
        ([, value]) =>
          typeof value === "function" && (value === IbkrError || value.prototype instanceof IbkrError),
      )
      .map(([key]) => key)
      .sort();
    expect(exported).toEqual(examples.map(([name]) => name).sort());
  });

  it("also inside other values (console.log of an object, a rejected promise's reason)", () => {
    const error = new ClientIdInUseError(2);
    expect(inspect({ error })).toContain("ClientIdInUseError (IB 326): Client id 2 is already in use");
    expect(inspect({ error })).not.toMatch(/\n\s+at /);
  });

  it("the texts carry the specifics a user needs", () => {
    const refused = new ConnectionRefusedError("127.0.0.1", [7497, 4002], "ibkr-paper");
    expect(refused.what).toBe('Nothing is listening on 127.0.0.1 ports 7497, 4002 (broker "ibkr-paper").');
    const inUse = new ClientIdInUseError(2);
    expect(inUse.todo).toContain("clientId: 3");
    expect(inUse.todo).toContain('clientId: "auto"');
    const login = new HandshakeTimeoutError("127.0.0.1", 7497, 5000, "no managed accounts");
    expect(login.todo).toMatch(/second-factor/);
    // TWS's confirmation dialog for a connection from an IP not in Trusted IPs stalls the handshake too.
    expect(login.todo).toMatch(/Accept incoming connection attempt\?.*Trusted IPs/);
    const pacing100 = new PacingError(100, "Max rate of messages per second has been exceeded");
    expect(pacing100.todo).toContain("~50");
    const rejected = new OrderRejectedError(201, "Order rejected - reason:no permissions", 12);
    expect(rejected.what).toBe("Order 12 rejected: Order rejected - reason:no permissions");
    expect(new OrderRejectedError(201, "x").what).toBe("Order rejected: x");
  });
});

describe("fromIbError: IB codes → classes", () => {
  it.each([
    [100, "Max rate of messages per second has been exceeded", PacingError],
    [420, "Invalid real-time query: pacing violation", PacingError],
    [162, "Historical Market Data Service error message:Pacing violation", PacingError],
    [162, "Historical Market Data Service error message:HMDS query returned no data", IbApiError],
    [101, "Max number of tickers has been reached (100 market data lines)", MarketDataLinesError],
    [200, "No security definition has been found for the request", NoSecurityDefinitionError],
    [201, "Order rejected - reason:", OrderRejectedError],
    [103, "Duplicate order id", OrderRejectedError],
    [110, "The price does not conform to the minimum price variation", OrderRejectedError],
    [10147, "OrderId 9 that needs to be cancelled is not found.", OrderRejectedError],
    [326, "Unable to connect as the client id is already in use.", ClientIdInUseError],
    [504, "Not connected", NotConnectedError],
    [1100, "Connectivity between IB and Trader Workstation has been lost.", ConnectivityLostError],
    [321, "Error validating request", IbApiError],
    [
      321,
      "Error validating request:-'bY' : cause - The API interface is currently in Read-Only mode.",
      ReadOnlyApiError,
    ],
  ])("%i %s", (code, message, type) => {
    const error = fromIbError(code, message, 5);
    expect(error).toBeInstanceOf(type);
    expect(error.code).toBe(code);
  });

  it("101 keeps IB's line count", () => {
    expect(
      inspect(fromIbError(101, "Max number of tickers has been reached (3 market data lines)")),
    ).toContain("(3 streaming subscriptions)");
  });

  it("farm status and order warnings are notices, not failures", () => {
    for (const code of [2104, 2106, 2158, 2103, 399, 10167, 1102]) expect(isNotice(code)).toBe(true);
    for (const code of [200, 201, 1100, 326, 162]) expect(isNotice(code)).toBe(false);
  });
});
