/**
 * `ibkr-notebook doctor`: the connectivity guide's "Verifying the connection" as a command. For each
 * of TWS / IB Gateway's ports: does it listen, does it answer the API handshake, which accounts
 * (paper or live) are logged in, is the client id free — and what to do about each failure.
 */
import { Socket } from "node:net";
import { EventName } from "@stoqey/ib";
import { Connection, type Session } from "../connection/connection";
import { BROKER_PORTS, resolveOptions } from "../connection/options";
import { ClientIdInUseError, HandshakeTimeoutError, isReadOnlyRefusal } from "../errors";
import { isPaperAccount } from "../safety/guard";

export type CheckResult = "ok" | "fail" | "skip";

export interface PortReport {
  port: number;
  /** What the port map says should be there. */
  expected: string;
  listening: boolean;
  handshake: CheckResult;
  accounts: string[];
  serverVersion: number | undefined;
  clientIdFree: boolean | undefined;
  /** Whether TWS's "Read-Only API" setting is ticked (orders cannot be listed, placed or cancelled). */
  readOnlyApi: boolean | undefined;
  /** One line per finding, each failure with its fix. */
  notes: string[];
}

export interface DoctorOptions {
  host?: string;
  clientId?: number;
  /** Ports to check; default TWS and Gateway, paper and live. */
  ports?: number[];
  timeoutMs?: number;
}

const EXPECTED: Record<number, string> = {
  7497: "TWS, paper",
  7496: "TWS, live",
  4002: "IB Gateway, paper",
  4001: "IB Gateway, live",
};

/** Resolves whether something accepts TCP connections on host:port (like `nc -z`). */
export function isListening(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.connect(port, host);
  });
}

async function checkPort(
  host: string,
  port: number,
  clientId: number,
  timeoutMs: number,
): Promise<PortReport> {
  const report: PortReport = {
    port,
    expected: EXPECTED[port] ?? "not a standard TWS / IB Gateway port",
    listening: await isListening(host, port, timeoutMs),
    handshake: "skip",
    accounts: [],
    serverVersion: undefined,
    clientIdFree: undefined,
    readOnlyApi: undefined,
    notes: [],
  };
  if (!report.listening) {
    const unused = EXPECTED[port] ? ` (fine if you do not use ${report.expected})` : "";
    report.notes.push(`nothing listens on ${host}:${port}${unused}`);
    return report;
  }
  const connection = new Connection(
    resolveOptions({ host, port, clientId, timeoutMs, reconnect: false }, {}),
  );
  try {
    const session = await connection.open();
    report.handshake = "ok";
    report.clientIdFree = true;
    report.accounts = session.accounts;
    report.serverVersion = session.serverVersion;
    const paper = session.accounts.filter(isPaperAccount);
    const live = session.accounts.filter((a) => !isPaperAccount(a));
    report.notes.push(
      `API handshake OK: server version ${session.serverVersion}, client id ${clientId} is free`,
    );
    if (paper.length) report.notes.push(`paper account${paper.length > 1 ? "s" : ""}: ${paper.join(", ")}`);
    if (live.length) report.notes.push(`LIVE account${live.length > 1 ? "s" : ""}: ${live.join(", ")}`);
    const expectsPaper = BROKER_PORTS["ibkr-paper"].includes(port);
    const expectsLive = BROKER_PORTS["ibkr-live"].includes(port);
    if (expectsPaper && live.length > 0) {
      report.notes.push(
        `✗ port ${port} is the paper port but live accounts are logged in: log TWS into your paper account, or use broker "ibkr-live"`,
      );
    }
    if (expectsLive && paper.length > 0 && live.length === 0) {
      report.notes.push(
        `✗ port ${port} is the live port but only paper accounts are logged in: use broker "ibkr-paper", or change the socket port`,
      );
    }
    report.readOnlyApi = await isReadOnlyApi(session, timeoutMs);
    if (report.readOnlyApi === true) {
      report.notes.push(
        '✗ "Read-Only API" is ticked: positions, account and quotes work, but orders cannot be listed, placed or cancelled; untick it in File → Global Configuration → API → Settings (Gateway: Configure → Settings → API → Settings)',
      );
    } else if (report.readOnlyApi === false) {
      report.notes.push('orders: TWS lists them to the API ("Read-Only API" is unticked)');
    }
  } catch (error) {
    report.handshake = "fail";
    if (error instanceof ClientIdInUseError) {
      report.handshake = "ok";
      report.clientIdFree = false;
      report.notes.push(
        `✗ client id ${clientId} is in use: another tool or a kernel holds it; use another id or clientId: "auto"`,
      );
    } else if (error instanceof HandshakeTimeoutError) {
      report.notes.push(`✗ ${error.what} → ${error.todo}`);
    } else {
      report.notes.push(`✗ ${(error as Error).message}`);
    }
  } finally {
    connection.close("doctor done");
  }
  return report;
}

/**
 * Asks for every client's open orders (reqAllOpenOrders: unlike reqOpenOrders it binds no manual
 * TWS orders to client 0): the list comes, or TWS refuses it as Read-Only. Undefined if neither.
 */
function isReadOnlyApi(session: Session, timeoutMs: number): Promise<boolean | undefined> {
  const { api } = session;
  return new Promise((resolve) => {
    const finish = (result: boolean | undefined) => {
      clearTimeout(timer);
      api.off(EventName.openOrderEnd, onEnd);
      api.off(EventName.info, onInfo);
      resolve(result);
    };
    const onEnd = () => finish(false);
    const onInfo = (message: string, code: number) => {
      if (isReadOnlyRefusal(code, message)) finish(true);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    api.on(EventName.openOrderEnd, onEnd);
    api.on(EventName.info, onInfo);
    api.reqAllOpenOrders();
  });
}

/** Runs every check; never throws for a failed check (that is what the report is for). */
export async function doctor(options: DoctorOptions = {}): Promise<PortReport[]> {
  const host = options.host ?? "127.0.0.1";
  const clientId = options.clientId ?? 2;
  const timeoutMs = options.timeoutMs ?? 2000;
  const ports = options.ports ?? [7497, 7496, 4002, 4001];
  const reports: PortReport[] = [];
  for (const port of ports) reports.push(await checkPort(host, port, clientId, timeoutMs));
  return reports;
}

/** The report as a person reads it, with the overall verdict and the next step. */
export function formatDoctorReport(reports: readonly PortReport[], host = "127.0.0.1"): string {
  const lines = [`ibkr-notebook doctor — checking ${host}`];
  for (const r of reports) {
    const mark = !r.listening ? "·" : r.handshake === "ok" && r.clientIdFree ? "✓" : "✗";
    lines.push(`${mark} ${r.port} (${r.expected}): ${r.listening ? "listening" : "not listening"}`);
    for (const note of r.notes) lines.push(`    ${note}`);
  }
  const usable = reports.filter((r) => r.handshake === "ok" && r.clientIdFree);
  if (usable.length === 0) {
    lines.push(
      "",
      "No usable TWS / IB Gateway found. Start TWS or IB Gateway and log in; in TWS enable File → Global Configuration → API → Settings →",
      '"Enable ActiveX and Socket Clients", set the socket port (paper 7497 / live 7496; Gateway 4002 / 4001), add 127.0.0.1 to Trusted IPs.',
      "Without an account, run the simulator: npx ibkr-sim --port 7497",
    );
  } else {
    const best = usable[0] as PortReport;
    const live = best.accounts.some((a) => !isPaperAccount(a));
    lines.push(
      "",
      `Ready: connect({ broker: "${live ? "ibkr-live" : "ibkr-paper"}"${BROKER_PORTS[live ? "ibkr-live" : "ibkr-paper"].includes(best.port) ? "" : `, port: ${best.port}`} })` +
        (best.readOnlyApi
          ? ' — for positions, account and quotes; orders need "Read-Only API" unticked (above)'
          : ""),
    );
  }
  return lines.join("\n");
}
