/**
 * A benchmark's counts and bounds: test/bench (run.mjs, full or --quick) holds them and passes them in
 * an environment variable, so that a benchmark run on its own says how to run it instead of guessing.
 */
export function benchConfig<T>(variable: string, howToRun: string): T {
  const text = process.env[variable];
  if (!text) throw new Error(`${variable} is not set: run this benchmark with ${howToRun}, which sets it`);
  return JSON.parse(text) as T;
}
