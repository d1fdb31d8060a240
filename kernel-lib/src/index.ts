/** ibkr-notebook: Interactive Brokers from a TypeScript notebook. */
export * as simulator from "./simulator";
export { TwsSimulator } from "./simulator";
