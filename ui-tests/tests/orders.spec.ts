/**
 * An order's life in the Orders panel, driven from both ends: a cell places it on a simulator the
 * test controls, the test fills it there in two parts, and the panel follows each fill (status,
 * filled and remaining quantity, average fill price) until the order moves to "Done today".
 */
import { idPattern, ORDERS, openNew, orderTables, rowsWith, run } from "./lab";
import { expect, test } from "./simulator";

test("an order placed in a cell fills in two parts and the Orders panel follows each fill", async ({
  page,
  tmpPath,
  sim,
}) => {
  await openNew(page, `${tmpPath}/fill.ipynb`, [
    [
      'import { connect } from "ibkr-notebook";',
      `const trader = await connect({ port: ${sim.port}, trading: true });`,
      "// far under the market (AAPL at 230): it rests until the test fills it",
      'const order = await trader.buy("AAPL", 5, { limit: 101.25 });',
      'console.log("order", order.orderId, order.status);',
    ].join("\n"),
    "trader.close();",
  ]);
  await page.sidebar.openTab("jupyterlab-ibkr-orders");
  const panel = page.locator(ORDERS);
  const placed = await run(page, 0);
  await expect(placed).toContainText(/order \d+ \w+/);
  const orderId = Number(/order (\d+)/.exec(await placed.innerText())?.[1]);
  expect(sim.order(2, orderId)?.status).toMatch(/^(PreSubmitted|Submitted)$/);

  const { working, done } = orderTables(panel);
  const row = rowsWith(working, "orderId", idPattern(orderId));
  const cell = (name: string) => row.locator(`td[data-column="${name}"]`);
  await expect(row).toHaveCount(1);
  await expect(cell("status")).toHaveText(/^(PreSubmitted|Submitted)$/);
  await expect(cell("filled")).toHaveText("0");
  await expect(cell("remaining")).toHaveText("5");

  // 2 of 5 at 101.00: still working, part filled.
  sim.fillOrder(2, orderId, { quantity: 2, price: 101 });
  await expect(cell("filled")).toHaveText("2");
  await expect(cell("remaining")).toHaveText("3");
  await expect(cell("avgFillPrice")).toHaveText("101.00");
  await expect(cell("status")).toHaveText("Submitted");
  await expect(rowsWith(done, "orderId", idPattern(orderId))).toHaveCount(0);

  // The other 3 at 101.20: filled at an average of (2 × 101.00 + 3 × 101.20) / 5 = 101.12.
  sim.fillOrder(2, orderId, { quantity: 3, price: 101.2 });
  const finished = rowsWith(done, "orderId", idPattern(orderId));
  await expect(finished).toHaveCount(1);
  const doneCell = (name: string) => finished.locator(`td[data-column="${name}"]`);
  await expect(doneCell("status")).toHaveText("Filled");
  await expect(doneCell("filled")).toHaveText("5");
  await expect(doneCell("remaining")).toHaveText("0");
  await expect(doneCell("avgFillPrice")).toHaveText("101.12");
  await expect(row).toHaveCount(0, { timeout: 10_000 }); // it fades out of the working list
  await expect(panel.locator(".jp-ibkr-Orders-working .jp-ibkr-Orders-heading")).toHaveText("Working (0)");
  await expect(panel.locator(".jp-ibkr-Orders-done .jp-ibkr-Orders-heading")).toHaveText("Done today (1)");
  await test.info().attach("orders-filled", { body: await panel.screenshot(), contentType: "image/png" });

  await run(page, 1);
});
