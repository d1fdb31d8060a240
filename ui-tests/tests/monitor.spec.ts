/**
 * The extension's monitor (DESIGN decision 3b): a headless tslab session running the library's
 * monitor(), started from its command and pointed (through the settings) at a simulator the test
 * controls. It feeds the panels with no notebook open, and it is where the Orders panel's cancel
 * runs; on a live-looking account without monitorAllowLive that cancel is refused and nothing
 * reaches the simulator.
 */
import type { IJupyterLabPageFixture } from "@jupyterlab/galata";
import type { Locator } from "@playwright/test";
import { badge, command, idPattern, ORDERS, orderTables, POSITIONS, panelBadge, rowsWith } from "./lab";
import { expect, scenario, test } from "./simulator";

const MONITOR_CLIENT_ID = 3;

/** Starts the monitor from its command and waits for its first snapshot in `panel`. */
async function startMonitor(page: IJupyterLabPageFixture, panel: Locator, state: string): Promise<void> {
  await command(page, "ibkr:start-monitor");
  const source = panel.locator(".jp-ibkr-Panel-source");
  await expect(source).toHaveValue("monitor");
  await expect(source.locator("option:checked")).toHaveText("Monitor");
  await expect(panelBadge(panel)).toHaveAttribute("data-state", state, { timeout: 60_000 });
}

/**
 * Runs code in the monitor's kernel (the extension's session at its default path) and returns what it
 * printed: what the panel's cancel would run there if the panel's own checks let it through.
 */
async function runInMonitorKernel(page: IJupyterLabPageFixture, code: string): Promise<string> {
  return page.evaluate(async (source) => {
    const sessions = window.jupyterapp.serviceManager.sessions;
    const model = await sessions.findByPath("ibkr-monitor");
    if (!model) throw new Error("no monitor session");
    const session = sessions.connectTo({ model });
    try {
      const future = session.kernel?.requestExecute({ code: source, silent: true, store_history: false });
      if (!future) throw new Error("the monitor session has no kernel");
      let printed = "";
      future.onIOPub = (msg) => {
        if (msg.header.msg_type === "stream") printed += (msg.content as { text: string }).text;
      };
      await future.done;
      return printed;
    } finally {
      session.dispose(); // this connection only; the session runs on
    }
  }, code);
}

async function runningSessions(page: IJupyterLabPageFixture): Promise<{ path: string; type: string }[]> {
  const response = await page.request.get("/api/sessions");
  expect(response.ok()).toBe(true);
  return (await response.json()) as { path: string; type: string }[];
}

test.describe("the monitor with no notebook open", () => {
  const ACCOUNT = "DU2468024";
  test.use({
    scenario: scenario([
      {
        id: ACCOUNT,
        cash: 75_000,
        positions: [
          { contract: "AAPL", quantity: 10, avgCost: 200 },
          { contract: "MSFT", quantity: -4, avgCost: 410 },
        ],
      },
    ]),
  });

  test("fills the Positions panel from the monitor kernel, and the source selector shows it", async ({
    page,
    sim,
  }) => {
    await expect(page.locator(".jp-NotebookPanel")).toHaveCount(0);
    const monitors = async () => (await runningSessions(page)).filter((s) => s.type === "ibkr-monitor");
    const before = (await runningSessions(page)).length;
    expect(await monitors()).toEqual([]);
    await page.sidebar.openTab("jupyterlab-ibkr-positions");
    const panel = page.locator(POSITIONS);
    await expect(panelBadge(panel)).toHaveAttribute("data-state", "offline");

    await startMonitor(page, panel, "paper");
    await expect(badge(page)).toHaveAttribute("data-state", "paper");
    await expect(badge(page)).toHaveAttribute(
      "title",
      new RegExp(`client id ${MONITOR_CLIENT_ID} · 127\\.0\\.0\\.1:${sim.port} `),
    );
    await expect(panel.locator(".jp-ibkr-Account-id")).toHaveText(ACCOUNT);
    const table = panel.locator("table.jp-ibkr-Table");
    const aapl = rowsWith(table, "symbol", /^AAPL$/);
    const msft = rowsWith(table, "symbol", /^MSFT$/);
    await expect(aapl.locator('td[data-column="quantity"]')).toHaveText("10");
    await expect(msft.locator('td[data-column="quantity"]')).toHaveText("-4");
    await expect(aapl.locator('td[data-column="account"]')).toHaveText(ACCOUNT);
    await expect(panel.locator(".jp-ibkr-Panel-monitorButton")).toHaveText("Stop monitor");

    // Still no notebook: the one new session is the monitor's, and the simulator sees only its client.
    await expect(page.locator(".jp-NotebookPanel")).toHaveCount(0);
    expect(await runningSessions(page)).toHaveLength(before + 1);
    expect(await monitors()).toHaveLength(1);
    expect(sim.sessionInfo().map((s) => s.clientId)).toEqual([MONITOR_CLIENT_ID]);

    await command(page, "ibkr:stop-monitor");
    await expect(panelBadge(panel)).toHaveAttribute("data-state", "offline");
    await expect(panelBadge(panel).locator(".jp-ibkr-Badge-reason")).toContainText("the monitor is stopped");
    expect(await monitors()).toEqual([]);
  });
});

/**
 * Issue 6: a live-looking account (U…) with Monitor trading on but live trading not allowed. The
 * order is the monitor's own (client 3), so nothing but the live rule stands in the way. The library's
 * guard refuses the cancel in the kernel (live money without allowLive, or a paper broker logged into
 * live); the feed says the connection is read-only (`connection.trading` follows the guard's rule), so
 * the panel refuses first, with the same explanation, and runs nothing. The test also sends the cancel
 * the panel would send to the monitor kernel, to see the guard's own refusal there.
 */
test.describe("cancelling from the Orders panel on a live-looking account", () => {
  const ACCOUNT = "U7654321";
  const ORDER_ID = 41;
  test.use({
    scenario: scenario(
      [{ id: ACCOUNT, cash: 20_000, positions: [{ contract: "AAPL", quantity: 3, avgCost: 190 }] }],
      [
        {
          account: ACCOUNT,
          clientId: MONITOR_CLIENT_ID,
          orderId: ORDER_ID,
          contract: "MSFT",
          action: "BUY",
          quantity: 7,
          orderType: "LMT",
          lmtPrice: 300,
          tif: "GTC",
        },
      ],
    ),
  });

  const cases = [
    {
      name: "broker ibkr-live without monitorAllowLive",
      settings: { broker: "ibkr-live", monitorTrading: true, monitorAllowLive: false },
      reason:
        /connection to this live account is read-only: it also needs Monitor trading on a live account \(monitorAllowLive\)/,
      guard: `Account ${ACCOUNT} is live money and allowLive is not set: no order was sent.`,
    },
    {
      name: "broker ibkr-paper logged into the live account",
      settings: { broker: "ibkr-paper", monitorTrading: true, monitorAllowLive: true },
      reason: new RegExp(
        `broker is ibkr-paper but TWS is logged into live account ${ACCOUNT}.*set Broker to ibkr-live`,
      ),
      guard: `broker is "ibkr-paper" but TWS is logged into live account ${ACCOUNT}: no order was sent.`,
    },
  ];
  for (const { name, settings, reason, guard } of cases) {
    test.describe(name, () => {
      test.use({ ibkrSettings: settings });

      test("is refused with the reason, and the order stays working in the simulator", async ({
        page,
        sim,
      }) => {
        await page.sidebar.openTab("jupyterlab-ibkr-orders");
        const panel = page.locator(ORDERS);
        await startMonitor(page, panel, "live");
        await expect(panelBadge(panel).locator(".jp-ibkr-Badge-label")).toHaveText("LIVE");
        const row = rowsWith(orderTables(panel).working, "orderId", idPattern(ORDER_ID));
        await expect(row.locator('td[data-column="account"]')).toHaveText(ACCOUNT);
        await expect(row.locator('td[data-column="clientId"]')).toHaveText(String(MONITOR_CLIENT_ID));
        const button = row.locator("button.jp-ibkr-Table-action");
        await expect(button).toBeDisabled();
        await expect(button).toHaveAttribute("title", reason);

        // The keyboard's cancel (Delete on the focused row) goes through the same checks, and says why.
        await row.locator('td[data-column="symbol"]').click();
        await page.keyboard.press("Delete");
        const message = panel.locator(".jp-ibkr-Panel-message");
        await expect(message).toHaveClass(/jp-ibkr-mod-error/);
        await expect(message).toHaveText(
          new RegExp(`^Order ${ORDER_ID} was not cancelled: .*${reason.source}`),
        );
        await expect(page.locator(".jp-Dialog")).toHaveCount(0); // no confirmation was even asked

        // Behind the panel, the library's guard in the monitor kernel refuses the same cancel, for the same reason.
        const refused = await runInMonitorKernel(
          page,
          [
            "{",
            "  const running = (globalThis as any).__ibkrMonitor; // where the extension keeps monitor()'s result",
            "  try {",
            `    await running.ib.cancelOrder(${ORDER_ID});`,
            '    console.log("cancel sent");',
            "  } catch (error) {",
            '    console.log((error as Error).name + ": " + (error as Error).message);',
            "  }",
            "}",
          ].join("\n"),
        );
        expect(refused).toContain(`TradingGuardError: ${guard}`);

        // Nothing reached the simulator: the order works on, and client 3 never sent a cancel.
        await page.waitForTimeout(500);
        expect(sim.order(MONITOR_CLIENT_ID, ORDER_ID)?.status).toMatch(/^(PreSubmitted|Submitted)$/);
        expect(sim.received(MONITOR_CLIENT_ID).filter((r) => r.type === "cancelOrder")).toEqual([]);
        await expect(row.locator('td[data-column="status"]')).toHaveText(/^(PreSubmitted|Submitted)$/);
        await command(page, "ibkr:stop-monitor");
      });
    });
  }
});
