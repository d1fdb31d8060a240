/**
 * The benchmarks' synthetic books, shared by the library benchmark (library.mjs) and the panels'
 * (ui-tests/bench, which Playwright loads as CommonJS: hence a CommonJS module).
 */
const { simulator } = require("ibkr-notebook");

const { parseScenario, syntheticSymbol, Universe } = simulator;

/** The account of every synthetic book. */
const ACCOUNT = "DU1000001";

/** Clocks stopped: no ticks, account or P&L pushes compete with what is being timed. */
const QUIET = { tickIntervalMs: 0, accountUpdateIntervalMs: 0, pnlIntervalMs: 0 };

/**
 * One account holding `count` positions, in as many synthetic stocks; `extra` adds scenario fields
 * (prices, openOrders).
 */
function positionsScenario(count, extra = {}) {
  return parseScenario(
    {
      ...extra,
      syntheticStocks: count,
      accounts: [
        {
          id: ACCOUNT,
          cash: 1_000_000,
          positions: Array.from({ length: count }, (_, i) => ({
            contract: syntheticSymbol(i + 1),
            quantity: (i % 2 === 0 ? 1 : -1) * (100 + i),
            avgCost: 10 + (i % 400),
          })),
        },
      ],
    },
    new Universe(),
  );
}

module.exports = { ACCOUNT, QUIET, positionsScenario };
