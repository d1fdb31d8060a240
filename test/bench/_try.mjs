import { measureLibrary } from "./library.mjs";

const r = await measureLibrary({
  aim: 1.2,
  connects: { count: 30, warmup: 5, blocks: 2 },
  positions: [
    { positions: 10, reps: 10, warmup: 2 },
    { positions: 1000, reps: 8, warmup: 2 },
    { positions: 10000, reps: 6, warmup: 1 },
  ],
  memory: { positions: 10000, runs: 3 },
});
const f = (s) => `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
console.log("connect lib", f(r.connect.library), "raw", f(r.connect.raw), r.connect.ratio.toFixed(2));
for (const p of r.positions)
  console.log(
    p.positions,
    "lib",
    f(p.library),
    "raw",
    f(p.raw),
    p.ratio.toFixed(2),
    "warm lib",
    f(p.warm.library),
    "warm raw",
    f(p.warm.raw),
  );
const m = r.memory;
console.log("heap lib", f(m.heapUsed.library), "raw", f(m.heapUsed.raw), m.heapUsed.ratio.toFixed(2));
console.log("rss lib", f(m.rss.library), "raw", f(m.rss.raw), m.rss.ratio.toFixed(2));
console.log(JSON.stringify(m.baseline));
console.log(r.seconds);
