/**
 * The panels' benchmarks (bench/, run by test/bench/panel.mjs from `npm run bench`): the browser
 * tests' configuration and start-up (global-setup.ts), with their own folder, one long test, and
 * bounds that fit the benchmark run.
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
