/**
 * A MIME renderer for the feed's own type, application/vnd.ibkr-notebook.state.v1+json.
 *
 * The library sends that type only as hidden `update_display_data` (DESIGN decision 2), which no output
 * shows. But a snapshot can land in a cell: the first message of a display shown on purpose
 * (`newDisplay()` in a cell), tslab's public-API fallback, or a library version that gets the hidden
 * channel wrong. JupyterLab would then show "No renderer could be found" or nothing at all, and the
 * whole snapshot (every position) would sit in the saved notebook unseen. With this renderer such an
 * output reads as a small connection card: the badge, the connection, and counts, never the positions
 * themselves. It writes text only (textContent), so it is safe in untrusted notebooks too.
 *
 * Why not a renderer for a connection-card MIME type: the library's connection card is text/html +
 * text/plain, which JupyterLab, GitHub and nbviewer already render; a type of our own would render
 * only where this extension is installed, and would need the library to emit it.
 */
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { Widget } from "@lumino/widgets";
import { badgeFor, formatTime, isWorking, SourceModel } from "./model";
import { FEED_MIME_TYPE } from "./payload";

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  content?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

/** Writes the card for one snapshot (any JSON value: a malformed one says why) into `node`. */
export function renderSnapshotCard(node: HTMLElement, data: unknown): void {
  const source = new SourceModel("cell output");
  source.applyData(data);
  const payload = source.payload;
  const badge = badgeFor(source, "Cell output");
  const head = element("div", "jp-ibkr-Card-head");
  const label = element("span", `jp-ibkr-Badge jp-ibkr-Badge-${badge.kind}`);
  label.append(element("span", "jp-ibkr-Badge-label", badge.text));
  head.append(label, element("span", "jp-ibkr-Card-title", "Interactive Brokers connection"));
  const rows: Array<[string, string]> = [];
  if (!payload) {
    rows.push(["Snapshot", `this extension cannot read it: ${source.error ?? "unknown"}`]);
  } else {
    const { source: from, connection } = payload;
    const working = payload.orders.filter(isWorking);
    rows.push(
      ["State", `${connection.state}: ${connection.reason}`],
      ["Broker", `${from.broker} (${from.kind})${from.live ? ", LIVE" : ""}`],
      ["Client id", from.clientId === null ? "–" : String(from.clientId)],
      ["Address", `${from.host}:${from.port ?? "?"}`],
      ["Accounts", from.accounts.join(", ") || "–"],
      ["Trading", connection.trading ? "enabled" : "read-only"],
      ["Positions", String(payload.positions.length)],
      ["Orders", `${working.length} working, ${payload.orders.length} in all`],
      ["Snapshot", `${formatTime(payload.ts)} (#${payload.seq})`],
    );
  }
  const table = element("table", "jp-ibkr-Card-fields");
  const body = element("tbody");
  for (const [name, value] of rows) {
    const tr = element("tr");
    const th = element("th", undefined, name);
    th.scope = "row";
    tr.append(th, element("td", undefined, value));
    body.append(tr);
  }
  table.append(body);
  const note = element(
    "div",
    "jp-ibkr-Card-note",
    "A snapshot of the ibkr-notebook feed. The Positions and Orders panels show it live.",
  );
  node.replaceChildren(head, table, note);
  source.dispose();
}

export class SnapshotRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this.mimeType = options.mimeType;
    this.addClass("jp-ibkr-Card");
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    renderSnapshotCard(this.node, model.data[this.mimeType]);
    return Promise.resolve();
  }

  private readonly mimeType: string;
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [FEED_MIME_TYPE],
  defaultRank: 75,
  createRenderer: (options) => new SnapshotRenderer(options),
};

const extension: IRenderMime.IExtension = {
  id: "jupyterlab-ibkr:state-renderer",
  description: "Shows an ibkr-notebook feed snapshot that lands in a cell output as a connection card.",
  rendererFactory,
  rank: 75,
  dataType: "json",
};

export default extension;
