/**
 * A simulator the test controls: ibkr-sim started in the Playwright worker (kernel-lib's built
 * TwsSimulator) on a free loopback port, so a test can restart it, fill its orders and look at what
 * clients sent. Notebook cells reach it with `connect({ port })`; the extension's monitor is pointed
 * at it through the mocked settings (Galata's mockSettings, per test).
 *
 * The suite's shared simulator (global-setup.ts, IBKR_PORT) stays for the tests that only read.
 */
import { test as base, galata } from "@jupyterlab/galata";
import { type simulator, TwsSimulator } from "ibkr-notebook";

export type Scenario = simulator.Scenario;
type ScenarioAccount = Scenario["accounts"][number];
type ScenarioOrder = Scenario["openOrders"][number];

/** A scenario with these accounts and open orders; prices pinned so limit orders far away rest. */
export function scenario(accounts: ScenarioAccount[], openOrders: ScenarioOrder[] = []): Scenario {
  return {
    seed: 11,
    nextOrderId: 1,
    marketDataLines: 100,
    prices: { AAPL: 230, MSFT: 420 },
    accounts,
    openOrders,
  };
}

export const PLUGIN_ID = "jupyterlab-ibkr:plugin";

export interface SimulatorFixtures {
  /** The simulator's starting state; default: one paper account holding AAPL. */
  scenario: Scenario;
  /** The extension's settings for the test, over the monitor's port (the simulator's). */
  ibkrSettings: Record<string, unknown>;
  sim: TwsSimulator;
}

export const test = base.extend<SimulatorFixtures>({
  scenario: [
    scenario([
      { id: "DU1357913", cash: 50_000, positions: [{ contract: "AAPL", quantity: 10, avgCost: 200 }] },
    ]),
    { option: true },
  ],
  ibkrSettings: [{}, { option: true }],
  sim: async ({ scenario }, use) => {
    const sim = await TwsSimulator.start({ port: 0, scenario });
    try {
      await use(sim);
    } finally {
      await sim.close();
    }
  },
  mockSettings: async ({ sim, ibkrSettings }, use) => {
    await use({ ...galata.DEFAULT_SETTINGS, [PLUGIN_ID]: { port: sim.port, ...ibkrSettings } });
  },
});

export { expect } from "@jupyterlab/galata";
