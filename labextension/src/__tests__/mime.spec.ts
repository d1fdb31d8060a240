import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import extension, { rendererFactory, renderSnapshotCard } from "../mime";
import { FEED_MIME_TYPE } from "../payload";
import { order, payload, position } from "./fixtures";

const HOSTILE = '<img src=x onerror="window.__pwned=1">';

function fields(node: HTMLElement): Record<string, string> {
  return Object.fromEntries(
    [...node.querySelectorAll("tr")].map((tr) => [
      tr.querySelector("th")?.textContent ?? "",
      tr.querySelector("td")?.textContent ?? "",
    ]),
  );
}

describe("the feed's MIME renderer", () => {
  it("registers a safe renderer for the feed's MIME type", () => {
    expect(extension.rendererFactory).toBe(rendererFactory);
    expect(rendererFactory.mimeTypes).toEqual([FEED_MIME_TYPE]);
    expect(rendererFactory.safe).toBe(true); // text only, so untrusted notebooks may show it
    expect(extension.dataType).toBe("json");
  });

  it("renders a snapshot that lands in an output as a connection card, through the factory", async () => {
    const renderer = rendererFactory.createRenderer({
      mimeType: FEED_MIME_TYPE,
    } as IRenderMime.IRendererOptions);
    const data = payload({
      positions: [position(), position({ conId: 2 })],
      orders: [order(), order({ orderId: 12, status: "Filled" })],
    });
    await renderer.renderModel({ data: { [FEED_MIME_TYPE]: data } } as unknown as IRenderMime.IMimeModel);
    const node = renderer.node;
    expect(node.classList.contains("jp-ibkr-Card")).toBe(true);
    expect(node.querySelector(".jp-ibkr-Badge-label")?.textContent).toBe("PAPER");
    expect(fields(node)).toMatchObject({
      State: "connected: connected",
      "Client id": "2",
      Address: "127.0.0.1:7497",
      Accounts: "DU1234567",
      Trading: "read-only",
      Positions: "2",
      Orders: "1 working, 2 in all",
    });
    // Counts only: no position or order detail is shown.
    expect(node.textContent).not.toContain("AAPL");
  });

  it("writes hostile strings as text", () => {
    const node = document.createElement("div");
    const data = payload();
    data.connection = { ...data.connection, state: "disconnected", reason: HOSTILE };
    data.source = { ...data.source, host: HOSTILE, accounts: [HOSTILE], kind: "<b>TWS</b>" };
    renderSnapshotCard(node, data);
    expect(node.querySelector("img, b")).toBeNull();
    expect(fields(node).State).toBe(`disconnected: ${HOSTILE}`);
    expect(node.querySelector(".jp-ibkr-Badge-label")?.textContent).toBe("OFFLINE");
  });

  it("says why when the snapshot is not one it can read, instead of guessing", () => {
    const node = document.createElement("div");
    renderSnapshotCard(node, { ...payload(), v: 2 });
    expect(fields(node).Snapshot).toMatch(/cannot read it: unsupported feed version number 2/);
    renderSnapshotCard(node, "<script>window.__pwned=2</script>");
    expect(fields(node).Snapshot).toMatch(/cannot read it: payload: expected an object/);
    expect(node.querySelector("script")).toBeNull();
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
  });
});
