/**
 * The panels in JupyterLab's light and dark themes: a notebook connected to the suite's simulator
 * (the demo account: 14 positions, working orders), pictures of the Positions and Orders panels in
 * each theme, kept under test-results/ and attached to the report. The panels take their colours
 * from JupyterLab's --jp-* variables, so the dark theme must change what they paint.
 */
import type { IJupyterLabPageFixture } from "@jupyterlab/galata";
import { expect, test } from "@jupyterlab/galata";
import type { Locator } from "@playwright/test";
import { command, idPattern, ORDERS, openNew, orderTables, POSITIONS, rowsWith, run } from "./lab";

/** What the theme paints: JupyterLab's main background variable, and the panel's own background. */
async function colours(
  page: IJupyterLabPageFixture,
  panel: Locator,
): Promise<{ layout: string; panel: string }> {
  const layout = await page.evaluate(() =>
    getComputedStyle(document.body).getPropertyValue("--jp-layout-color1").trim(),
  );
  return { layout, panel: await panel.evaluate((node) => getComputedStyle(node).backgroundColor) };
}

/** Relative luminance (0 black … 1 white) of a computed `rgb(…)` colour. */
function luminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? []).map(Number);
  return (0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0)) / 255;
}

/** A picture of each panel, written under test-results/ and attached. */
async function picturePanels(page: IJupyterLabPageFixture, theme: string): Promise<void> {
  for (const [tab, selector, name] of [
    ["jupyterlab-ibkr-positions", POSITIONS, "positions"],
    ["jupyterlab-ibkr-orders", ORDERS, "orders"],
  ] as const) {
    await page.sidebar.openTab(tab);
    await page.mouse.move(0, 0); // no hover highlight in the picture
    const panel = page.locator(selector);
    expect((await panel.boundingBox())?.width ?? 0).toBeGreaterThan(900); // every column in the picture
    const path = test.info().outputPath(`${name}-${theme}.png`);
    await panel.screenshot({ path });
    await test.info().attach(`${name}-${theme}`, { path, contentType: "image/png" });
  }
}

test("the Positions and Orders panels in the light and the dark theme", async ({ page, tmpPath }) => {
  await openNew(page, `${tmpPath}/themes.ipynb`, [
    'import { connect } from "ibkr-notebook";\nconst ib = await connect();\nawait ib.portfolio();\nawait ib.openOrders();',
    "ib.close();",
  ]);
  await run(page, 0);
  await command(page, "application:toggle-left-area"); // room for the panel
  await page.sidebar.openTab("jupyterlab-ibkr-positions");
  await page.sidebar.setWidth(1000, "right"); // an open side bar only
  const positions = page.locator(POSITIONS);
  await expect(positions.locator(".jp-ibkr-Badge-label")).toHaveText("PAPER");
  await expect(rowsWith(positions.locator("table.jp-ibkr-Table"), "symbol", /^AAPL$/)).toHaveCount(1);
  await page.sidebar.openTab("jupyterlab-ibkr-orders");
  await expect(rowsWith(orderTables(page.locator(ORDERS)).working, "orderId", idPattern(990))).toHaveCount(1);

  expect(await page.theme.getTheme()).toBe("JupyterLab Light");
  const light = await colours(page, positions);
  expect(luminance(light.panel)).toBeGreaterThan(0.8);
  await picturePanels(page, "light");

  await page.theme.setDarkTheme();
  expect(await page.theme.getTheme()).toBe("JupyterLab Dark");
  const dark = await colours(page, positions);
  expect(dark.layout).not.toBe(light.layout);
  expect(dark.panel).not.toBe(light.panel);
  expect(luminance(dark.panel)).toBeLessThan(0.3);
  await picturePanels(page, "dark");

  await run(page, 1);
});
