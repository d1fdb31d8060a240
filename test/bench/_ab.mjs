import { fork } from "node:child_process";
import ib from "@stoqey/ib";
import { connect } from "ibkr-notebook";

const positions = Number(process.argv[2] ?? 0);
const n = Number(process.argv[3] ?? 300);
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
const t = { lib: [], raw: [] };
for (let i = 0; i < n; i++) {
  for (const side of i % 2 ? ["lib", "raw"] : ["raw", "lib"]) {
    const s = process.hrtime.bigint();
    if (side === "lib") {
      const lib = await connect({ host: "127.0.0.1", port, clientId: 100 + 2 * i, reconnect: false });
      if (positions) await lib.positions();
      t.lib.push(Number(process.hrtime.bigint() - s) / 1e6);
      lib.close();
    } else {
      const api = await rawConnect(port, 101 + 2 * i);
      if (positions) await rawPositions(api);
      t.raw.push(Number(process.hrtime.bigint() - s) / 1e6);
      api.disconnect();
    }
  }
}
const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
const l = med(t.lib.slice(n / 5)),
  r = med(t.raw.slice(n / 5));
console.log(
  positions,
  "lib",
  l.toFixed(3),
  "raw",
  r.toFixed(3),
  "ratio",
  (l / r).toFixed(2),
  process.env.TAG ?? "",
);
if (globalThis.__st) {
  const a = globalThis.__st.slice(50).sort((x, y) => x - y);
  console.log("sendTogether median ms", a[Math.floor(a.length / 2)].toFixed(3));
}
child.kill();
