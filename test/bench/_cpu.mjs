import { fork } from "node:child_process";
import ib from "@stoqey/ib";
import { connect } from "ibkr-notebook";

const positions = Number(process.argv[2] ?? 0);
const n = Number(process.argv[3] ?? 500);
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
const cpu = { lib: 0, raw: 0 },
  wall = { lib: [], raw: [] };
let id = 100;
for (let i = 0; i < n; i++) {
  for (const side of i % 2 ? ["lib", "raw"] : ["raw", "lib"]) {
    const c0 = process.cpuUsage();
    const s = process.hrtime.bigint();
    let h;
    if (side === "lib") {
      h = await connect({ host: "127.0.0.1", port, clientId: id++, reconnect: false });
      if (positions) await h.positions();
    } else {
      h = await rawConnect(port, id++);
      if (positions) await rawPositions(h);
    }
    const w = Number(process.hrtime.bigint() - s) / 1e6;
    const c = process.cpuUsage(c0);
    if (i >= n / 5) {
      cpu[side] += (c.user + c.system) / 1000;
      wall[side].push(w);
    }
    if (side === "lib") h.close();
    else h.disconnect();
  }
}
const m = n - n / 5;
const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(
  `${positions} cpu/op lib ${(cpu.lib / m).toFixed(3)} raw ${(cpu.raw / m).toFixed(3)} (${(cpu.lib / cpu.raw).toFixed(2)}) wall lib ${med(wall.lib).toFixed(3)} raw ${med(wall.raw).toFixed(3)} (${(med(wall.lib) / med(wall.raw)).toFixed(2)}) ${process.env.TAG ?? ""}`,
);
child.kill();
