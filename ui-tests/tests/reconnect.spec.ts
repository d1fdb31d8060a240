/**
 * The gateway's daily restart, seen from JupyterLab: a notebook connected to a simulator the test
 * controls; the simulator drops every socket and refuses connections for a while; the library
 * reconnects by itself and the badge follows it, RECONNECTING and then PAPER, with no cell run.
 */
import { badge, openNew, POSITIONS, panelBadge, rowsWith, run } from "./lab";
import { expect, test } from "./simulator";

const DOWN_MS = 4000;

test("a simulator restart turns the badge RECONNECTING, then PAPER again by itself", async ({
  page,
  tmpPath,
  sim,
}) => {
  await openNew(page, `${tmpPath}/restart.ipynb`, [
    `import { connect } from "ibkr-notebook";\nconst ib = await connect({ port: ${sim.port} });`,
    "ib.close();",
  ]);
  await run(page, 0);
  await page.sidebar.openTab("jupyterlab-ibkr-positions");
  const panel = page.locator(POSITIONS);
  await expect(badge(page)).toHaveAttribute("data-state", "paper");
  await expect(rowsWith(panel.locator("table.jp-ibkr-Table"), "symbol", /^AAPL$/)).toHaveCount(1);

  const restarted = sim.restart({ downMs: DOWN_MS });
  const droppedAt = Date.now();
  // The drop is seen at once (the socket closes), well within the down time.
  await expect(badge(page)).toHaveAttribute("data-state", "reconnecting", { timeout: DOWN_MS / 2 });
  await expect(badge(page).locator(".jp-ibkr-Badge-label")).toHaveText("RECONNECTING");
  const reason = panelBadge(panel).locator(".jp-ibkr-Badge-reason");
  await expect(reason).not.toHaveText("");
  // While the gateway is down the library keeps trying, and says so: still RECONNECTING, never OFFLINE.
  await expect(reason).toContainText(/attempt \d+/, { timeout: DOWN_MS });
  await expect(badge(page)).toHaveAttribute("data-state", "reconnecting");
  // What was last known stays on screen meanwhile.
  await expect(rowsWith(panel.locator("table.jp-ibkr-Table"), "symbol", /^AAPL$/)).toHaveCount(1);

  await restarted;
  await expect(badge(page)).toHaveAttribute("data-state", "paper", { timeout: 10_000 });
  const downFor = Date.now() - droppedAt;
  await expect(badge(page)).toHaveAttribute("title", /^PAPER: reconnected/);
  await expect(panelBadge(panel).locator(".jp-ibkr-Badge-label")).toHaveText("PAPER");
  // The notebook's client is back in the simulator, as the same client id.
  expect(sim.sessionInfo().filter((s) => s.clientId === 2 && s.state === "ready")).toHaveLength(1);
  test
    .info()
    .annotations.push({ type: "badge PAPER again after", description: `${downFor} ms (down ${DOWN_MS} ms)` });

  await run(page, 1);
  await expect(badge(page)).toHaveAttribute("data-state", "offline", { timeout: 10_000 });
});
