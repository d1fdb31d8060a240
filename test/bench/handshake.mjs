/**
 * Handshake time: connect → server version → startApi → nextValidId, sequential, each with its own
 * client id, against the floor of the same shape (connect and two round trips to an echo server).
 * Sim and floor alternate in blocks so that drift in the machine affects both alike.
 */
import { TwsSimulator } from "ibkr-notebook";
import { startEchoServer } from "./servers.mjs";
import { summarize } from "./stats.mjs";

const BLOCKS = 4;

export async function measureHandshakes(client, { count, warmup, stoqeyCount }) {
  // The gateway as a notebook meets it: default clocks and limits.
  const sim = await TwsSimulator.start({ port: 0 });
  const echo = await startEchoServer();
  const echoPort = echo.address().port;
  let nextClientId = 1;
  const run = async (kind, port, n) => {
    const durations = await client.request("handshakes", {
      kind,
      port,
      count: n,
      firstClientId: nextClientId,
    });
    nextClientId += n;
    return durations;
  };

  await run("tws", sim.port, warmup);
  await run("echo", echoPort, warmup);
  const simMs = [];
  const floorMs = [];
  for (let block = 0; block < BLOCKS; block++) {
    simMs.push(...(await run("tws", sim.port, Math.ceil(count / BLOCKS))));
    floorMs.push(...(await run("echo", echoPort, Math.ceil(count / BLOCKS))));
  }
  await run("stoqey", sim.port, 3); // warm @stoqey/ib's own code paths
  const stoqeyMs = await run("stoqey", sim.port, stoqeyCount);

  await sim.close();
  await new Promise((resolve) => echo.close(resolve));
  const simulator = summarize(simMs);
  const floor = summarize(floorMs);
  return {
    simulator,
    floor,
    ratio: simulator.median / floor.median,
    stoqey: summarize(stoqeyMs),
  };
}
