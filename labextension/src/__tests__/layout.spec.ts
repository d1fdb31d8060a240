/**
 * The Orders panel's layout in style/base.css. jsdom lays nothing out, so these check the styles the
 * browser's flexbox needs, on the elements the panel builds; the panel benchmark (ui-tests/bench)
 * counts the done-today rows in Chromium's DOM.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { IbkrModel } from "../model";
import { OrdersPanel } from "../widgets";
import { must } from "./fixtures";

beforeAll(() => {
  const style = document.createElement("style");
  style.textContent = readFileSync(join(__dirname, "../../style/base.css"), "utf8");
  document.head.append(style);
});

function sections() {
  const panel = new OrdersPanel({ model: new IbkrModel("notebook") });
  document.body.append(panel.node);
  const section = (name: string) =>
    getComputedStyle(must(panel.node.querySelector<HTMLElement>(`.jp-ibkr-Orders-${name}`)));
  return { working: section("working"), done: section("done") };
}

describe("Orders panel layout", () => {
  it("lets done today shrink below its rows' height, so its table is only as tall as the room left", () => {
    const { done } = sections();
    // min-height: auto (the default) would keep the section as tall as every row: no windowing.
    expect(done.minHeight).toMatch(/^0(px)?$/);
    expect(done.overflow).toBe("hidden");
  });

  it("keeps working orders to at most 60% of the height, leaving done today in view", () => {
    expect(sections().working.maxHeight).toBe("60%");
  });
});
