/**
 * Driving JupyterLab and reading the extension's panels, for every spec: notebooks written here and
 * run cell by cell, the status bar badge, the panels' tables.
 */
import { expect, type IJupyterLabPageFixture } from "@jupyterlab/galata";
import type { Locator } from "@playwright/test";

export const POSITIONS = "#jupyterlab-ibkr-positions";
export const ORDERS = "#jupyterlab-ibkr-orders";

/** A notebook for the tslab kernel with these code cells, no outputs. */
export function notebookJson(cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((source) => ({
      cell_type: "code",
      execution_count: null,
      metadata: {},
      outputs: [],
      source,
    })),
    metadata: {
      kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" },
      language_info: { name: "typescript" },
    },
    nbformat: 4,
    nbformat_minor: 4,
  });
}

export async function command(page: IJupyterLabPageFixture, id: string): Promise<void> {
  await page.evaluate((name) => window.jupyterapp.commands.execute(name), id);
}

/** Opens a notebook of the test's folder, and waits for its kernel to be idle. */
export async function open(page: IJupyterLabPageFixture, path: string): Promise<void> {
  expect(await page.notebook.openByPath(path)).toBe(true);
  const name = path.split("/").pop() ?? path;
  expect(await page.notebook.activate(name)).toBe(true);
  await expect(page.locator("#jp-main-statusbar").getByText(/TypeScript \| Idle/)).toBeVisible({
    timeout: 60_000,
  });
}

/** Writes a notebook with these cells into the test's folder and opens it. */
export async function openNew(page: IJupyterLabPageFixture, path: string, cells: string[]): Promise<void> {
  expect(await page.contents.uploadContent(notebookJson(cells), "text", path)).toBe(true);
  await open(page, path);
}

/** Runs one cell and waits for it; fails with the cell's output if it raised. */
export async function run(page: IJupyterLabPageFixture, index: number): Promise<Locator> {
  expect(await page.notebook.runCell(index)).toBe(true);
  const cell = (await page.notebook.getCellLocator(index)) as Locator;
  const error = cell.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]');
  if ((await error.count()) > 0) throw new Error(`cell ${index} failed:\n${await error.first().innerText()}`);
  return cell.locator(".jp-OutputArea");
}

/** The status bar's connection badge. */
export function badge(page: IJupyterLabPageFixture): Locator {
  return page.locator("#jp-main-statusbar .jp-ibkr-StatusBadge .jp-ibkr-Badge");
}

/** A panel's own badge, in its header. */
export function panelBadge(panel: Locator): Locator {
  return panel.locator(".jp-ibkr-Panel-header .jp-ibkr-Badge");
}

/**
 * The badge after close(): OFFLINE. The library's last snapshot (state "disconnected") must reach the
 * panels; if one was sent less than a feed interval (250 ms) before close(), it waits on a timer that
 * the feed's stop() must not drop.
 */
export async function expectOffline(node: Locator): Promise<void> {
  await expect(
    node,
    "after close() the badge must read OFFLINE: the library's final snapshot (disconnected) did not reach the panels (StateFeed.stop() drops a snapshot still waiting for its interval)",
  ).toHaveAttribute("data-state", "offline", { timeout: 10_000 });
  await expect(node.locator(".jp-ibkr-Badge-label")).toHaveText("OFFLINE");
}

/** An order id as the panels show it (1001 reads 1,001): any thousands separator. */
export function idPattern(id: string | number): RegExp {
  return new RegExp(`^${String(id).split("").join("[,.\u00a0\u202f ]?")}$`);
}

/** The rows of a panel's table (virtualized: the ones in view) whose `column` cell reads `text`. */
export function rowsWith(table: Locator, column: string, text: string | RegExp): Locator {
  return table.locator("tbody tr").filter({
    has: table.page().locator(`td[data-column="${column}"]`, { hasText: text }),
  });
}

/** The Orders panel's two tables. */
export function orderTables(panel: Locator): { working: Locator; done: Locator } {
  return {
    working: panel.locator(".jp-ibkr-Orders-working table"),
    done: panel.locator(".jp-ibkr-Orders-done table"),
  };
}
