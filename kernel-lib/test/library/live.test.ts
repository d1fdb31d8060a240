/**
 * Live forms: `ib.positions.live()` and friends keep listening while they run and let go of every
 * listener and market-data line when stopped, when the connection closes, or on an interrupt.
 * (What they draw in a notebook is checked with a real tslab kernel in test/python.)
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect, type IB } from "../../src";
import { TwsSimulator } from "../../src/simulator";

let sim: TwsSimulator;
let ib: IB;

afterEach(async () => {
  ib?.close();
  await sim?.close();
});

async function start() {
  sim = await TwsSimulator.start({ port: 0, tickIntervalMs: 0, accountUpdateIntervalMs: 0 });
  ib = await connect({ port: sim.port, trading: true });
}

describe("live forms", () => {
  it("positions.live() listens for position changes until stopped", async () => {
    await start();
    const before = ib.listenerCount("position");
    const form = await ib.positions.live();
    expect(form.name).toBe("positions");
    expect(ib.listenerCount("position")).toBe(before + 1);
    form.stop();
    expect(form.isStopped).toBe(true);
    expect(ib.listenerCount("position")).toBe(before);
  });

  it("quotes.live() holds one market-data line per symbol and frees them when stopped", async () => {
    await start();
    const form = await ib.quotes.live(["AAPL", "MSFT"]);
    expect(ib.activeTickers.map((t) => t.symbol)).toEqual(["AAPL", "MSFT"]);
    await new Promise((r) => setTimeout(r, 150)); // the requests pass @stoqey/ib's pacing first
    expect(sim.linesInUse()).toBe(2);
    form.stop();
    expect(ib.activeTickers).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(sim.linesInUse()).toBe(0);
  });

  it("every form stops when the connection closes", async () => {
    await start();
    const forms = [
      await ib.positions.live(),
      await ib.portfolio.live(),
      await ib.pnl.live(),
      await ib.openOrders.live(),
      await ib.quotes.live(["NVDA"]),
    ];
    expect(forms.every((f) => !f.isStopped)).toBe(true);
    ib.close();
    expect(forms.every((f) => f.isStopped)).toBe(true);
    expect(ib.broker.listenerCount("portfolio")).toBe(0);
    expect(ib.broker.listenerCount("pnl")).toBe(0);
  });

  it("the plain query still answers with data", async () => {
    await start();
    const trade = await ib.buy("AAPL", 5);
    await trade.done(2000);
    const rows = await ib.positions();
    expect(rows.map((p) => [p.symbol, p.quantity])).toEqual([["AAPL", 5]]);
  });
});
