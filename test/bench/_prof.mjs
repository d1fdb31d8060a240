import { fork } from "node:child_process";
import ib from "@stoqey/ib";
import { connect } from "ibkr-notebook";

const side = process.argv[2];
const positions = Number(process.argv[3] ?? 0);
const n = Number(process.argv[4] ?? 300);
// simulator in a child process
const child = fork(new URL("./_sim.mjs", import.meta.url), [String(positions)]);
const port = await new Promise((r) => child.once("message", r));
const rawConnect = (port, clientId) =>
  new Promise((resolve) => {
    const api = new ib.IBApi({ host: "127.0.0.1", port });
    api.on(ib.EventName.error, () => {});
    api.once(ib.EventName.nextValidId, () => resolve(api));
    api.connect(clientId);
  });
const rawPositions = (api) =>
  new Promise((resolve) => {
    const m = new Map();
    const on = (a, c, p, avg) => m.set(`${a}/${c.conId}`, { a, c, p, avg });
    api.on(ib.EventName.position, on);
    api.once(ib.EventName.positionEnd, () => {
      api.off(ib.EventName.position, on);
      resolve(m);
    });
    api.reqPositions();
  });
const times = [];
for (let i = 0; i < n; i++) {
  const t = process.hrtime.bigint();
  if (side === "lib") {
    const lib = await connect({ host: "127.0.0.1", port, clientId: 100 + i, reconnect: false });
    if (positions) await lib.positions();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    lib.close();
  } else {
    const api = await rawConnect(port, 100 + i);
    if (positions) await rawPositions(api);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    api.disconnect();
  }
}
times.sort((a, b) => a - b);
console.log(side, positions, "median", times[Math.floor(n / 2)].toFixed(3));
child.kill();
