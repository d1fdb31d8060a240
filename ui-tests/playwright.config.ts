/**
 * Browser tests: real JupyterLab (the venv's, with jupyterlab-ibkr) against ibkr-sim, in Debian's
 * Chromium. Galata's fixtures; no browser, video or trace download (Playwright's ffmpeg is not there).
 * global-setup.ts starts the simulator and JupyterLab on free loopback ports and stops them after.
 * (Galata's own playwright-config adds nothing used here: its reporter, video and trace are replaced.)
 */
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "tests",
  outputDir: "test-results",
  globalSetup: require.resolve("./global-setup"),
  reporter: [["list"]],
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  globalTimeout: 240_000,
  expect: { timeout: 20_000 },
  use: {
    baseURL: process.env.IBKR_UI_BASE_URL,
    viewport: { width: 1920, height: 1080 },
    video: "off",
    trace: "off",
    screenshot: "only-on-failure",
    actionTimeout: 20_000,
    navigationTimeout: 60_000,
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
