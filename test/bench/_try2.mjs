import { measureLibrary } from "./library.mjs";

const W = Number(process.env.W ?? 2);
const r = await measureLibrary({
  aim: 1.2,
  connects: { count: 40, warmup: 5 * W, blocks: 4 },
  positions: [
    { positions: 10, reps: 20, warmup: 5 * W },
    { positions: 1000, reps: 12, warmup: 2 * W },
    { positions: 10000, reps: 6, warmup: W },
  ],
  memory: { positions: 10000, runs: 1 },
});
const f = (s) => `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
console.log("connect lib", f(r.connect.library), "raw", f(r.connect.raw), r.connect.ratio.toFixed(2));
for (const p of r.positions)
  console.log(p.positions, "lib", f(p.library), "raw", f(p.raw), p.ratio.toFixed(2));
