/**
 * Half-open sockets, repeatedly, while trading. test/library/reconnect.test.ts checks one half-open
 * socket on an idle connection (detected within two keepalive intervals, then a reconnect); here the
 * gateway freezes five times in a row while a ticker streams and an order works, and fills while
 * frozen. Each freeze must be caught within two intervals, and afterwards every fill is in the
 * library exactly once and the ticker streams again.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { IB } from "../../src/ib";
import type { Fill } from "../../src/state/types";
import { Harness, scenario, until } from "../library/helpers";

const KEEPALIVE_MS = 100;
const ROUNDS = 5;
const h = new Harness();
let ib: IB;

beforeAll(async () => {
  await h.start({
    scenario: scenario({ accounts: [{ id: "DU7100001", cash: 1_000_000, positions: [] }] }),
  });
  h.sim.setPrice("AAPL", 200);
  ib = await h.connect({ trading: true, keepaliveMs: KEEPALIVE_MS });
});
afterAll(() => h.stop());

it(`${ROUNDS} half-open sockets in a row, each caught within two keepalive intervals, nothing lost`, async () => {
  const ticker = ib.ticker("AAPL");
  await until(() => ticker.last === 200, 2000, "the first quote");
  const trade = await ib.buy("AAPL", 10 * ROUNDS, { limit: 150 });
  const announced: string[] = [];
  trade.on("fill", (fill: Fill) => announced.push(fill.execId));

  const detectedMs: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const frozenAt = performance.now();
    h.sim.halfOpen();
    // While the gateway reads and writes nothing, the order fills in part and the price moves.
    h.sim.fillOrder(2, trade.orderId, { quantity: 10, price: 150 });
    h.sim.setPrice("AAPL", 200 + round);
    const stale = new Promise<number>((resolve) => {
      const onState = (s: { state: string }) => {
        if (s.state === "connected") return;
        ib.off("state", onState);
        resolve(performance.now());
      };
      ib.on("state", onState);
    });
    detectedMs.push((await stale) - frozenAt);
    await ib.ready(3000);
    await until(() => trade.filled === 10 * round, 2000, `the fill of round ${round}`);
    await until(() => ticker.last === 200 + round, 2000, `the quote of round ${round}`);
  }

  console.log(
    `half-open, ${ROUNDS} rounds (keepalive ${KEEPALIVE_MS} ms): detected after ${detectedMs.map((ms) => ms.toFixed(0)).join(", ")} ms`,
  );
  for (const ms of detectedMs) expect(ms).toBeLessThanOrEqual(2 * KEEPALIVE_MS + 80); // plus timer slack
  const simExecIds = h.sim.exchange.executions.map((f) => f.execution.execId);
  expect(simExecIds).toHaveLength(ROUNDS);
  expect(trade.fills.map((f) => f.execId)).toEqual(simExecIds);
  expect(announced).toEqual(simExecIds);
  expect(trade.status).toBe("Filled");
  expect(h.sent("placeOrder", 2)).toHaveLength(1);
  expect(h.connections).toBe(ROUNDS + 1);
  ticker.stop();
});
