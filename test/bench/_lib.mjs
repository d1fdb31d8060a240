// temporary: the library section alone
import { cpus } from "node:os";
import { measureLibrary, QUIET } from "./library.mjs";
import { formatLibraryReport } from "./report.mjs";

const quick = process.argv.includes("--quick");
const libraryConfig = {
  quick,
  aim: 1.2,
  connects: { count: quick ? 10 : 40, warmup: quick ? 4 : 20, blocks: quick ? 2 : 4 },
  positions: [
    { positions: 10, reps: quick ? 4 : 30, warmup: quick ? 2 : 20 },
    { positions: 1_000, reps: quick ? 3 : 20, warmup: quick ? 1 : 10 },
    { positions: 10_000, reps: quick ? 2 : 10, warmup: quick ? 1 : 3 },
  ],
  memory: { positions: 10_000, runs: quick ? 1 : 3 },
  simulator: QUIET,
};
const results = {
  machine: { cpu: cpus()[0].model, cores: cpus().length, node: process.version },
  config: libraryConfig,
  ...(await measureLibrary(libraryConfig)),
};
console.log(formatLibraryReport(results));
