/**
 * Order edge cases: a cancel racing the order's refusal, cancelling an order another IB object (or a
 * previous kernel) placed with the same client id, one fill event per execution and one commission
 * event (whichever of the two TWS sends first), and no error route left behind once orders are done.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect, type Fill, type IB, NoSecurityDefinitionError } from "../../src";
import { TwsSimulator } from "../../src/simulator";
import type { ClientSession } from "../../src/simulator/server/session";
import { routeFrames, until } from "./helpers";

let sim: TwsSimulator;
const opened: IB[] = [];

async function open(clientId = 2): Promise<IB> {
  const ib = await connect({ port: sim.port, clientId, trading: true });
  opened.push(ib);
  return ib;
}

afterEach(async () => {
  for (const ib of opened.splice(0)) ib.close();
  await sim?.close();
});

describe("order lifecycle", () => {
  it("a cancel sent before TWS refused the order does not hide the refusal", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0 });
    const ib = await open();
    const placing = ib.buy("ZZZZNOPE", 1, { limit: 10 });
    const trade = ib.allTrades[0];
    const cancelling = ib.cancelOrder(trade?.orderId ?? 0).catch((e: Error) => e);
    await expect(placing).rejects.toBeInstanceOf(NoSecurityDefinitionError);
    expect(trade?.status).toBe("Inactive");
    expect(trade?.error).toBeInstanceOf(NoSecurityDefinitionError);
    await cancelling;
    expect(await trade?.done(100)).toBe(trade);
  });

  it("cancels an order placed earlier with the same client id by another connection (a previous kernel)", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0 });
    const first = await open(7);
    const trade = await first.buy("AAPL", 2, { limit: 100 });
    first.close();
    await new Promise((r) => setTimeout(r, 50));
    const second = await open(7);
    await second.positions(); // the standing downloads (this client's open orders) have arrived
    const cancelled = await second.cancelOrder(trade.orderId);
    expect(cancelled?.status).toBe("Cancelled");
    expect(sim.order(7, trade.orderId)?.status).toBe("Cancelled");
  });

  it("emits one fill event per execution, and a commission event when its report arrives", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0 });
    const ib = await open();
    const fills: Fill[] = [];
    const commissions: Fill[] = [];
    ib.on("fill", (f) => fills.push(f));
    ib.on("commission", (f) => commissions.push(f));
    const trade = await ib.buy("AAPL", 5);
    await trade.done(2000);
    await ib.fills();
    expect(fills.map((f) => f.execId)).toEqual(sim.exchange.executions.map((x) => x.execution.execId));
    expect(commissions.map((f) => f.commission)).toEqual([1]);
  });

  it("a commission report that comes before its execution is announced too, after the fill", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0 });
    const ib = await open();
    // From the order on, this session's executions (message 11) reach it 50 ms late: after their reports.
    sim.on("request", (session: ClientSession, request: { type: string }) => {
      if (request.type !== "placeOrder") return;
      routeFrames(session, (id, frame, write) => {
        if (id === "11") setTimeout(() => write(frame), 50);
        else write(frame);
      });
    });
    const said: string[] = [];
    ib.on("fill", (f) => said.push(`fill ${f.quantity}`));
    ib.on("commission", (f) => said.push(`commission ${f.commission}`));
    const trade = await ib.buy("AAPL", 5);
    await until(() => said.length === 2, 2000, "the fill and its commission");
    expect(said).toEqual(["fill 5", "commission 1"]);
    expect(trade.fills.map((f) => f.commission)).toEqual([1]);
  });

  it("leaves no error route behind once orders are done", async () => {
    sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0 });
    const ib = await open();
    const filled = await ib.buy("AAPL", 1);
    await filled.done(2000);
    const resting = await ib.buy("AAPL", 1, { limit: 100 });
    await ib.cancelOrder(resting);
    const router = (ib as unknown as { router: { watchedOrders: number[] } }).router;
    expect(router.watchedOrders).toEqual([]);
  });
});
