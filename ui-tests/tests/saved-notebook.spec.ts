/**
 * The feed never lands in the notebook (DESIGN decision 2): after cells that connect, with the feed
 * publishing snapshots all along, the saved .ipynb holds exactly what the cells printed, and nothing
 * carrying the feed's MIME type.
 */
import type { IJupyterLabPageFixture } from "@jupyterlab/galata";
import { openNew, POSITIONS, rowsWith, run } from "./lab";
import { expect, test } from "./simulator";

const FEED_MIME = "application/vnd.ibkr-notebook.state.v1+json";

interface SavedOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
}

/** The outputs of each cell of the active notebook, as JupyterLab's model holds them now. */
function modelOutputs(page: IJupyterLabPageFixture): Promise<SavedOutput[][]> {
  return page.evaluate(() => {
    const panel = window.jupyterapp.shell.currentWidget as unknown as {
      content: { model: { toJSON(): { cells: { outputs?: unknown[] }[] } } };
    };
    return panel.content.model.toJSON().cells.map((cell) => (cell.outputs ?? []) as SavedOutput[]);
  });
}

const text = (output: SavedOutput) => [output.text ?? ""].flat().join("");

/** nbformat's multiline strings (lists of lines on disk) joined, so a saved output compares with the model's. */
function joinLines(outputs: SavedOutput[]): SavedOutput[] {
  const join = (value: unknown) =>
    Array.isArray(value) && value.every((line) => typeof line === "string") ? value.join("") : value;
  return outputs.map((output) => ({
    ...output,
    ...(output.text !== undefined && { text: text(output) }),
    ...(output.data && {
      data: Object.fromEntries(Object.entries(output.data).map(([mime, value]) => [mime, join(value)])),
    }),
  }));
}

test("a saved notebook holds only what its cells printed, never the feed's snapshots", async ({
  page,
  tmpPath,
  sim,
}) => {
  const path = `${tmpPath}/saved.ipynb`;
  await openNew(page, path, [
    `import { connect } from "ibkr-notebook";\nconst ib = await connect({ port: ${sim.port} });`,
    "await ib.portfolio()",
    'console.log("state:", ib.state.state);',
  ]);
  await page.sidebar.openTab("jupyterlab-ibkr-positions");
  for (const index of [0, 1, 2]) await run(page, index);
  const printed = await modelOutputs(page);
  // What the cells print: the connection card; the portfolio table, its chart and the summary line.
  expect(printed[0].map((o) => o.output_type)).toEqual(["display_data"]);
  expect(printed[0][0].data?.["text/plain"]).toMatch(/^\[PAPER\] Interactive Brokers · connected/);
  expect(printed[1].map((o) => o.output_type)).toEqual(["display_data", "display_data", "stream"]);
  expect(printed[1][0].data?.["text/html"]).toContain("DU1357913");
  expect(printed[1][1].data).toHaveProperty(["application/vnd.vegalite.v5+json"]);
  expect(text(printed[1][2])).toMatch(/^1 position in DU1357913: market value/);
  expect(printed[2].map((o) => [o.output_type, text(o)])).toEqual([["stream", "state: connected\n"]]);

  // The feed goes on after the cells: AAPL jumps from 230 to 251.50 (then walks on from there), and the
  // new price reaches the panel by snapshots (portfolio updates).
  sim.setPrice("AAPL", 251.5);
  const aapl = rowsWith(page.locator(`${POSITIONS} table.jp-ibkr-Table`), "symbol", /^AAPL$/);
  await expect(aapl.locator('td[data-column="marketPrice"]')).toHaveText(/^25\d\.\d\d$/);

  expect(await page.notebook.save()).toBe(true);
  const response = await page.request.get(`/api/contents/${path}?content=1&type=file&format=text`);
  expect(response.ok()).toBe(true);
  const onDisk = ((await response.json()) as { content: string }).content;
  expect(onDisk).not.toContain(FEED_MIME);
  expect(onDisk).not.toContain("application/vnd.ibkr-notebook");
  const saved = (JSON.parse(onDisk) as { cells: { outputs: SavedOutput[] }[] }).cells;
  expect(saved.map((cell) => joinLines(cell.outputs))).toEqual(printed.map(joinLines));
});
