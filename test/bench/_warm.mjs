import { fork } from "node:child_process";
import { connect } from "ibkr-notebook";

const child = fork(new URL("./_sim.mjs", import.meta.url), ["10000"]);
const port = await new Promise((r) => child.once("message", r));
const lib = await connect({ host: "127.0.0.1", port, clientId: 5, reconnect: false });
for (let i = 0; i < 15; i++) {
  const t = performance.now();
  const p = await lib.positions();
  const t1 = performance.now();
  const arr = [...lib.broker.positions.values()];
  const t2 = performance.now();
  arr.sort(
    (a, b) =>
      a.account.localeCompare(b.account) ||
      a.symbol.localeCompare(b.symbol) ||
      a.localSymbol.localeCompare(b.localSymbol),
  );
  const t3 = performance.now();
  console.log(p.length, (t1 - t).toFixed(2), "spread", (t2 - t1).toFixed(2), "sort", (t3 - t2).toFixed(2));
}
lib.close();
child.kill();
