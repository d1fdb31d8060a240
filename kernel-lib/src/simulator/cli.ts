#!/usr/bin/env node
/**
 * ibkr-sim: run the TWS gateway simulator from a terminal.
 *   ibkr-sim [--port 7497] [--host 127.0.0.1] [--scenario FILE] [--seed N] [--read-only-api] [--allow-remote] [--quiet]
 */
import { parseArgs } from "node:util";
import { loadScenario, type Scenario, ScenarioError } from "./model/scenario";
import { Universe } from "./model/universe";
import { MAX_SUPPORTED_VERSION, MIN_SUPPORTED_VERSION } from "./protocol/versions";
import { TwsSimulator } from "./server/simulator";

const USAGE = `usage: ibkr-sim [--port 7497] [--host 127.0.0.1] [--scenario FILE] [--seed N] [--read-only-api] [--allow-remote] [--quiet]

A TWS / IB Gateway simulator speaking the TWS socket API (server versions ${MIN_SUPPORTED_VERSION}-${MAX_SUPPORTED_VERSION}).
Point any TWS API client (ibkr-notebook, @stoqey/ib, ib_async, ibapi) at the port it prints.
  --port N          port to listen on (default 7497, TWS paper; 0 picks a free one)
  --host H          interface (default 127.0.0.1; anything else needs --allow-remote)
  --scenario FILE   starting state: accounts, positions, open orders, prices (JSON)
  --seed N          random-walk seed (default: the scenario's)
  --tick-ms N       milliseconds between market steps (default 250)
  --read-only-api   act as TWS with "Read-Only API" ticked: orders cannot be listed, placed or cancelled
  --quiet           do not log connections`;

function fail(message: string): never {
  process.stderr.write(`ibkr-sim: ${message}\n`);
  process.exit(2);
}

function integer(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    fail(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  return n;
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        host: { type: "string" },
        scenario: { type: "string" },
        seed: { type: "string" },
        "tick-ms": { type: "string" },
        "read-only-api": { type: "boolean" },
        "allow-remote": { type: "boolean" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = integer("port", values.port as string | undefined, 0, 65535) ?? 7497;
  const seed = integer("seed", values.seed as string | undefined, 0, 2 ** 32 - 1);
  const tickIntervalMs = integer("tick-ms", values["tick-ms"] as string | undefined, 0, 60_000);
  let scenario: Scenario | undefined;
  if (typeof values.scenario === "string") {
    try {
      scenario = loadScenario(values.scenario, new Universe());
    } catch (error) {
      if (error instanceof ScenarioError) fail(error.message);
      throw error;
    }
  }
  const quiet = values.quiet === true;
  const log = (line: string) => {
    if (!quiet) process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  };
  let sim: TwsSimulator;
  try {
    sim = await TwsSimulator.start({
      port,
      host: values.host as string | undefined,
      allowRemote: values["allow-remote"] === true,
      scenario,
      seed,
      tickIntervalMs,
      readOnlyApi: values["read-only-api"] === true,
      log,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      fail(`port ${port} is in use (is TWS or another ibkr-sim running?); try --port 0`);
    fail((error as Error).message);
  }
  process.stdout.write(
    `ibkr-sim listening on ${sim.address} (server versions ${MIN_SUPPORTED_VERSION}-${MAX_SUPPORTED_VERSION}; accounts ${sim.accountIds.join(", ")})${sim.readOnlyApi ? "; Read-Only API: orders cannot be listed, placed or cancelled" : ""}\n`,
  );
  const stop = () => {
    void sim.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

void main();
