/** Where the benchmarks put the panels: both in view, Orders in the left area, Positions in the right. */
import { expect, type IJupyterLabPageFixture } from "@jupyterlab/galata";

export async function showBothPanels(page: IJupyterLabPageFixture): Promise<void> {
  await page.evaluate(() => {
    const shell = window.jupyterapp.shell;
    const orders = [...shell.widgets("right")].find((w) => w.id === "jupyterlab-ibkr-orders");
    if (orders) shell.add(orders, "left");
    shell.activateById("jupyterlab-ibkr-orders");
  });
  await page.sidebar.openTab("jupyterlab-ibkr-positions");
  await expect(page.locator("#jupyterlab-ibkr-orders")).toBeVisible();
  await expect(page.locator("#jupyterlab-ibkr-positions")).toBeVisible();
}
