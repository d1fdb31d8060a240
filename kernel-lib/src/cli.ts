#!/usr/bin/env node
/**
 * ibkr-notebook command line.
 *   ibkr-notebook doctor [--host H] [--client-id N] [--port P]…   check TWS / IB Gateway connectivity
 */
import { parseArgs } from "node:util";
import { doctor, formatDoctorReport } from "./doctor/doctor";

const USAGE = `usage: ibkr-notebook doctor [--host 127.0.0.1] [--client-id 2] [--port P ...] [--timeout-ms 2000]

Checks TWS / IB Gateway the way the connectivity guide does: which of 7497, 7496, 4002, 4001 listen,
which answer the API handshake, paper or live accounts, whether the client id is free — with the fix
for each failure. Exits 0 when a usable connection was found, 1 otherwise.`;

function fail(message: string): never {
  process.stderr.write(`ibkr-notebook: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function wholeNumber(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    fail(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  return n;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === undefined || command === "--help" || command === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command !== "doctor") fail(`unknown command "${command}"`);
  let values: { host?: string; "client-id"?: string; port?: string[]; "timeout-ms"?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        host: { type: "string" },
        "client-id": { type: "string" },
        port: { type: "string", multiple: true },
        "timeout-ms": { type: "string" },
      },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  const host = values.host ?? "127.0.0.1";
  const reports = await doctor({
    host,
    clientId:
      values["client-id"] === undefined
        ? undefined
        : wholeNumber("client-id", values["client-id"], 0, 2_147_483_647),
    ports: values.port?.map((p) => wholeNumber("port", p, 1, 65535)),
    timeoutMs:
      values["timeout-ms"] === undefined
        ? undefined
        : wholeNumber("timeout-ms", values["timeout-ms"], 100, 60_000),
  });
  process.stdout.write(`${formatDoctorReport(reports, host)}\n`);
  process.exitCode = reports.some((r) => r.handshake === "ok" && r.clientIdFree) ? 0 : 1;
}

void main();
