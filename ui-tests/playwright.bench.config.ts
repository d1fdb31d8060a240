/**
 * The panels' benchmarks (bench/, run by test/bench/run.mjs from `npm run bench`, one spec at a time:
 * panels.bench.ts, then hour.bench.ts): the browser tests' configuration and start-up
 * (global-setup.ts), with their own folder, one long test in each spec, and bounds that fit the
 * benchmark run (the hour sets its own test timeout; the runner passes each spec's global timeout).
 */
import { defineConfig } from "@playwright/test";
import tests from "./playwright.config";

export default defineConfig({
  ...tests,
  testDir: "bench",
  testMatch: "*.bench.ts",
  outputDir: "test-results/bench",
  timeout: 180_000,
  globalTimeout: 240_000,
  use: { ...tests.use, screenshot: "off" },
});
