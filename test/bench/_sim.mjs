import { simulator, TwsSimulator } from "ibkr-notebook";

const n = Number(process.argv[2]);
const scenario = n
  ? simulator.parseScenario(
      {
        syntheticStocks: n,
        accounts: [
          {
            id: "DU1000001",
            positions: Array.from({ length: n }, (_, i) => ({
              contract: `SYN${String(i + 1).padStart(5, "0")}`,
              quantity: 100 + i,
              avgCost: 10,
            })),
          },
        ],
      },
      new simulator.Universe(),
    )
  : undefined;
const sim = await TwsSimulator.start({
  port: 0,
  tickIntervalMs: 0,
  accountUpdateIntervalMs: 0,
  pnlIntervalMs: 0,
  scenario,
});
process.send(sim.port);
