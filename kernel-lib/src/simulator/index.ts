/** ibkr-sim: the TWS / IB Gateway simulator, for tests and for running notebooks offline. */

export type { Fill, SimOrder } from "./model/exchange";
export { defaultScenario, loadScenario, parseScenario, type Scenario, ScenarioError } from "./model/scenario";
export {
  BUILT_IN_INSTRUMENTS,
  type Instrument,
  MAX_SYNTHETIC_STOCKS,
  SYNTHETIC_CONID_BASE,
  syntheticStocks,
  syntheticSymbol,
  Universe,
} from "./model/universe";
export * as protocol from "./protocol";
export type { ClientSession } from "./server/session";
export { type SessionInfo, type SimulatorOptions, TwsSimulator } from "./server/simulator";
