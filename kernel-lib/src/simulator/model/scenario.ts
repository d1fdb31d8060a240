/**
 * A scenario: the simulator's starting state, from JSON. Validated field by field so that a typo in
 * a hand-written file says where it is and what would be accepted.
 */
import { readFileSync } from "node:fs";
import { MAX_SYNTHETIC_STOCKS, type Universe } from "./universe";

export interface ScenarioPosition {
  contract: string;
  quantity: number;
  avgCost: number;
}

export interface ScenarioAccount {
  id: string;
  cash: number;
  positions: ScenarioPosition[];
}

export interface ScenarioOrder {
  account: string;
  /** The client id that placed it; 0 for an order entered by hand in TWS. */
  clientId: number;
  orderId: number;
  contract: string;
  action: "BUY" | "SELL";
  quantity: number;
  orderType: "LMT" | "STP" | "STP LMT";
  lmtPrice?: number;
  auxPrice?: number;
  tif: string;
}

export interface Scenario {
  seed: number;
  nextOrderId: number;
  marketDataLines: number;
  /**
   * Generated stocks added to the universe (SYN00001 …), for scenarios with more positions than the
   * built-in instruments allow; positions and prices may name them. Default 0, at most 99,999.
   * Every market step moves every instrument (about 15 ms for 10,000 on a laptop-class core), so
   * large counts suit a slow or stopped clock (`tickIntervalMs`).
   */
  syntheticStocks?: number;
  accounts: ScenarioAccount[];
  prices: Record<string, number>;
  openOrders: ScenarioOrder[];
}

export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScenarioError";
  }
}

/** The default: one paper account with cash only. */
export function defaultScenario(): Scenario {
  return {
    seed: 1,
    nextOrderId: 1,
    marketDataLines: 100,
    syntheticStocks: 0,
    accounts: [{ id: "DU1234567", cash: 1_000_000, positions: [] }],
    prices: {},
    openOrders: [],
  };
}

type Json = unknown;

class Checker {
  /** What contract names may refer to; grows by the scenario's synthetic stocks once they are read. */
  constructor(public universe: Universe) {}

  fail(path: string, message: string): never {
    throw new ScenarioError(`${path}: ${message}`);
  }

  object(value: Json, path: string): Record<string, Json> {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      this.fail(path, "must be an object");
    return value as Record<string, Json>;
  }

  array(value: Json, path: string): Json[] {
    if (!Array.isArray(value)) this.fail(path, "must be an array");
    return value;
  }

  number(
    value: Json,
    path: string,
    rule: { integer?: boolean; min?: number; max?: number; positive?: boolean } = {},
  ): number {
    if (typeof value !== "number" || !Number.isFinite(value))
      this.fail(path, `must be a number, got ${JSON.stringify(value)}`);
    if (rule.integer && !Number.isInteger(value)) this.fail(path, `must be a whole number, got ${value}`);
    if (rule.positive && value <= 0) this.fail(path, `must be greater than 0, got ${value}`);
    if (rule.min !== undefined && value < rule.min)
      this.fail(path, `must be at least ${rule.min}, got ${value}`);
    if (rule.max !== undefined && value > rule.max)
      this.fail(path, `must be at most ${rule.max}, got ${value}`);
    return value;
  }

  string(value: Json, path: string, pattern?: RegExp, hint?: string): string {
    if (typeof value !== "string" || value === "")
      this.fail(path, `must be a non-empty string, got ${JSON.stringify(value)}`);
    if (pattern && !pattern.test(value)) this.fail(path, `"${value}" ${hint ?? `must match ${pattern}`}`);
    return value;
  }

  contract(value: Json, path: string): string {
    const key = this.string(value, path);
    if (!this.universe.get(key)) {
      this.fail(path, `unknown contract "${key}"; the simulator knows ${this.universe.describeKeys()}`);
    }
    return key;
  }

  keys(object: Record<string, Json>, path: string, allowed: string[]): void {
    for (const key of Object.keys(object)) {
      if (!allowed.includes(key))
        this.fail(`${path}.${key}`, `unknown field; expected one of ${allowed.join(", ")}`);
    }
  }
}

/** Validates a parsed JSON value as a scenario; missing fields take the defaults. */
export function parseScenario(json: Json, universe: Universe): Scenario {
  const check = new Checker(universe);
  const root = check.object(json, "scenario");
  check.keys(root, "scenario", [
    "$comment",
    "seed",
    "nextOrderId",
    "marketDataLines",
    "syntheticStocks",
    "accounts",
    "prices",
    "openOrders",
  ]);
  const defaults = defaultScenario();
  const seed =
    root.seed === undefined
      ? defaults.seed
      : check.number(root.seed, "scenario.seed", { integer: true, min: 0 });
  const nextOrderId =
    root.nextOrderId === undefined
      ? defaults.nextOrderId
      : check.number(root.nextOrderId, "scenario.nextOrderId", { integer: true, min: 1 });
  const marketDataLines =
    root.marketDataLines === undefined
      ? defaults.marketDataLines
      : check.number(root.marketDataLines, "scenario.marketDataLines", { integer: true, min: 1 });
  const syntheticStocks =
    root.syntheticStocks === undefined
      ? 0
      : check.number(root.syntheticStocks, "scenario.syntheticStocks", {
          integer: true,
          min: 0,
          max: MAX_SYNTHETIC_STOCKS,
        });
  check.universe = universe.withSyntheticStocks(syntheticStocks);

  const accounts =
    root.accounts === undefined
      ? defaults.accounts
      : check.array(root.accounts, "scenario.accounts").map((a, i) => {
          const path = `scenario.accounts[${i}]`;
          const o = check.object(a, path);
          check.keys(o, path, ["id", "cash", "positions"]);
          const id = check.string(
            o.id,
            `${path}.id`,
            /^(DU|DF|U|F)\d{4,}$/,
            "is not an IB account id (paper DU1234567, live U1234567)",
          );
          const cash = check.number(o.cash ?? 0, `${path}.cash`);
          const positions = check.array(o.positions ?? [], `${path}.positions`).map((p, j) => {
            const pp = `${path}.positions[${j}]`;
            const po = check.object(p, pp);
            check.keys(po, pp, ["contract", "quantity", "avgCost"]);
            const quantity = check.number(po.quantity, `${pp}.quantity`);
            if (quantity === 0)
              check.fail(`${pp}.quantity`, "must not be 0 (leave the position out instead)");
            return {
              contract: check.contract(po.contract, `${pp}.contract`),
              quantity,
              avgCost: check.number(po.avgCost, `${pp}.avgCost`, { positive: true }),
            };
          });
          return { id, cash, positions };
        });
  if (accounts.length === 0) check.fail("scenario.accounts", "must list at least one account");
  const ids = new Set<string>();
  for (const [i, a] of accounts.entries()) {
    if (ids.has(a.id)) check.fail(`scenario.accounts[${i}].id`, `duplicate account "${a.id}"`);
    ids.add(a.id);
  }

  const prices: Record<string, number> = {};
  if (root.prices !== undefined) {
    for (const [key, value] of Object.entries(check.object(root.prices, "scenario.prices"))) {
      check.contract(key, `scenario.prices.${key}`);
      prices[key] = check.number(value, `scenario.prices.${key}`, { positive: true });
    }
  }

  const openOrders =
    root.openOrders === undefined
      ? []
      : check.array(root.openOrders, "scenario.openOrders").map((o, i): ScenarioOrder => {
          const path = `scenario.openOrders[${i}]`;
          const oo = check.object(o, path);
          check.keys(oo, path, [
            "account",
            "clientId",
            "orderId",
            "contract",
            "action",
            "quantity",
            "orderType",
            "lmtPrice",
            "auxPrice",
            "tif",
          ]);
          const account = check.string(oo.account ?? accounts[0]?.id, `${path}.account`);
          if (!ids.has(account))
            check.fail(`${path}.account`, `"${account}" is not one of the scenario's accounts`);
          const action = check.string(oo.action, `${path}.action`, /^(BUY|SELL)$/, "must be BUY or SELL");
          const orderType = check.string(
            oo.orderType ?? "LMT",
            `${path}.orderType`,
            /^(LMT|STP|STP LMT)$/,
            "must be LMT, STP or STP LMT (market orders would fill at once)",
          );
          const order: ScenarioOrder = {
            account,
            clientId: check.number(oo.clientId ?? 0, `${path}.clientId`, { integer: true, min: 0 }),
            orderId: check.number(oo.orderId ?? 0, `${path}.orderId`, { integer: true, min: 0 }),
            contract: check.contract(oo.contract, `${path}.contract`),
            action: action as ScenarioOrder["action"],
            quantity: check.number(oo.quantity, `${path}.quantity`, { positive: true }),
            orderType: orderType as ScenarioOrder["orderType"],
            tif: check.string(oo.tif ?? "DAY", `${path}.tif`, /^(DAY|GTC)$/, "must be DAY or GTC"),
          };
          if (orderType !== "STP")
            order.lmtPrice = check.number(oo.lmtPrice, `${path}.lmtPrice`, { positive: true });
          if (orderType !== "LMT")
            order.auxPrice = check.number(oo.auxPrice, `${path}.auxPrice`, { positive: true });
          return order;
        });

  return { seed, nextOrderId, marketDataLines, syntheticStocks, accounts, prices, openOrders };
}

/** Reads and validates a scenario file; errors name the file and the field. */
export function loadScenario(path: string, universe: Universe): Scenario {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ScenarioError(`cannot read scenario file ${path}: ${(error as Error).message}`);
  }
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return parseScenario(json, universe);
  } catch (error) {
    if (error instanceof ScenarioError) throw new ScenarioError(`${path}: ${error.message}`);
    throw error;
  }
}
