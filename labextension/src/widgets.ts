/**
 * Thin widgets over IbkrModel: the connection badge (status bar and panel headers) and the Positions
 * and Orders panels. They hold only view state (sort, filter) and re-render on the model's `changed`,
 * coalesced by Lumino's update requests to at most one render per frame.
 */
import type { ISignal } from "@lumino/signaling";
import { Widget } from "@lumino/widgets";
import {
  type Badge,
  badgeFor,
  EMPTY_HINT,
  formatTime,
  type IbkrModel,
  SOURCE_LABELS,
  type SourceKind,
} from "./model";
import type { FeedOrder, FeedPayload, FeedPosition } from "./payload";
import type { MonitorStatus } from "./sources";
import {
  type Column,
  formatMoney,
  nextSort,
  ORDER_COLUMNS,
  POSITION_COLUMNS,
  pickColumns,
  renderTable,
  sortAndFilter,
  type TableViewState,
} from "./table";

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

/** Writes a badge into `node`; with `withReason`, the reason and last connected time follow the label. */
export function renderBadge(node: HTMLElement, badge: Badge, withReason: boolean): void {
  node.className = `jp-ibkr-Badge jp-ibkr-Badge-${badge.kind}`;
  node.title = badge.title;
  node.dataset.state = badge.kind;
  const label = element("span", "jp-ibkr-Badge-label", badge.text);
  node.replaceChildren(label);
  if (withReason && badge.kind !== "paper" && badge.kind !== "live") {
    const since = badge.lastConnectedAt ? ` (last connected ${formatTime(badge.lastConnectedAt)})` : "";
    node.append(element("span", "jp-ibkr-Badge-reason", `${badge.reason}${since}`));
  }
}

/** The status bar item: the selected source's badge, the details on hover. */
export class ConnectionBadge extends Widget {
  constructor(private readonly model: IbkrModel) {
    super();
    this.addClass("jp-ibkr-StatusBadge");
    model.changed.connect(() => this.update(), this);
    this.render();
  }

  render(): void {
    const badge = badgeFor(this.model.current, SOURCE_LABELS[this.model.selected]);
    const inner = element("span");
    renderBadge(inner, badge, false);
    inner.prepend(element("span", "jp-ibkr-StatusBadge-prefix", "IBKR "));
    this.node.replaceChildren(inner);
  }

  protected override onUpdateRequest(): void {
    this.render();
  }
}

/** Starting and stopping the monitor, as the panels need it (MonitorSource implements it). */
export interface MonitorControls {
  readonly status: MonitorStatus;
  readonly failure: string | null;
  readonly statusChanged: ISignal<unknown, MonitorStatus>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface FeedPanelOptions {
  model: IbkrModel;
  monitor?: MonitorControls | null;
  /** Column ids to show, from the settings; empty or unknown ids: all columns. */
  columns?: readonly string[];
}

/** What the Positions and Orders panels share: header (title, badge, source, filter) and notices. */
abstract class FeedPanel extends Widget {
  constructor(title: string, options: FeedPanelOptions) {
    super();
    this.model = options.model;
    this.monitor = options.monitor ?? null;
    this.addClass("jp-ibkr-Panel");
    this.title.caption = `Interactive Brokers: ${title}`;

    const header = element("div", "jp-ibkr-Panel-header");
    const titleRow = element("div", "jp-ibkr-Panel-titleRow");
    titleRow.append(element("h2", "jp-ibkr-Panel-title", title), this.badgeNode);
    const controls = element("div", "jp-ibkr-Panel-controls");
    this.sourceSelect.className = "jp-mod-styled jp-ibkr-Panel-source";
    this.sourceSelect.setAttribute("aria-label", "Source");
    for (const kind of Object.keys(SOURCE_LABELS) as SourceKind[]) {
      const option = element("option", undefined, SOURCE_LABELS[kind]);
      option.value = kind;
      this.sourceSelect.append(option);
    }
    this.sourceSelect.addEventListener("change", () => {
      this.model.selected = this.sourceSelect.value as SourceKind;
    });
    this.monitorButton.type = "button";
    this.monitorButton.className = "jp-mod-styled jp-ibkr-Panel-monitorButton";
    this.monitorButton.addEventListener("click", () => this.toggleMonitor());
    this.filterInput.type = "search";
    this.filterInput.className = "jp-mod-styled jp-ibkr-Panel-filter";
    this.filterInput.placeholder = "Filter";
    this.filterInput.setAttribute("aria-label", `Filter ${title.toLowerCase()}`);
    this.filterInput.addEventListener("input", () => {
      this.view = { ...this.view, filter: this.filterInput.value };
      this.update();
    });
    controls.append(this.sourceSelect, this.monitorButton, this.filterInput);
    header.append(titleRow, controls);
    this.node.append(header, this.noticeNode, this.contentNode);
    this.noticeNode.className = "jp-ibkr-Panel-notice";
    this.contentNode.className = "jp-ibkr-Panel-content";

    this.model.changed.connect(() => this.update(), this);
    this.monitor?.statusChanged.connect(() => this.update(), this);
    this.render();
  }

  /** Sort and filter: view state, kept per panel. */
  get viewState(): TableViewState {
    return this.view;
  }

  set viewState(state: TableViewState) {
    this.view = state;
    this.filterInput.value = state.filter;
    this.render();
  }

  /** Renders now; the model's signals go through update() to coalesce. */
  render(): void {
    const model = this.model.current;
    const sourceName = SOURCE_LABELS[this.model.selected];
    renderBadge(this.badgeNode, badgeFor(model, sourceName), true);
    this.sourceSelect.value = this.model.selected;
    this.renderMonitorButton();

    const payload = model?.payload ?? null;
    const notice = model?.error
      ? `The feed sent a snapshot this extension cannot read, so nothing is shown: ${model.error}`
      : !payload
        ? this.model.selected === "monitor" && this.monitor?.status === "failed"
          ? `The monitor failed: ${this.monitor.failure ?? "unknown error"}`
          : `Nothing to show yet: ${EMPTY_HINT}.`
        : model?.down
          ? `Last snapshot from ${formatTime(payload.ts)}; ${model.down.reason}.`
          : "";
    this.noticeNode.textContent = notice;
    this.noticeNode.hidden = notice === "";
    this.noticeNode.classList.toggle("jp-ibkr-mod-error", Boolean(model?.error));
    this.node.classList.toggle("jp-ibkr-mod-down", Boolean(model?.down));
    this.contentNode.replaceChildren();
    if (payload) this.renderPayload(payload, this.contentNode);
  }

  protected abstract renderPayload(payload: FeedPayload, into: HTMLElement): void;

  protected sortBy<T>(column: Column<T>): void {
    this.view = nextSort(this.view, column);
    this.render();
  }

  protected override onUpdateRequest(): void {
    this.render();
  }

  private renderMonitorButton(): void {
    const monitor = this.monitor;
    const show = monitor !== null && this.model.selected === "monitor";
    this.monitorButton.hidden = !show;
    if (!monitor) return;
    const running = monitor.status === "running" || monitor.status === "starting";
    this.monitorButton.textContent =
      monitor.status === "starting" ? "Starting…" : running ? "Stop monitor" : "Start monitor";
    this.monitorButton.disabled = monitor.status === "starting";
  }

  private toggleMonitor(): void {
    const monitor = this.monitor;
    if (!monitor) return;
    const action = monitor.status === "running" ? monitor.stop() : monitor.start();
    action.catch((error: unknown) => console.error("jupyterlab-ibkr: monitor", error));
  }

  protected readonly model: IbkrModel;
  private readonly monitor: MonitorControls | null;
  private view: TableViewState = { sortBy: null, descending: false, filter: "" };
  private readonly badgeNode = element("span");
  private readonly sourceSelect = element("select");
  private readonly monitorButton = element("button");
  private readonly filterInput = element("input");
  private readonly noticeNode = element("div");
  private readonly contentNode = element("div");
}

/** Positions with per-account totals. */
export class PositionsPanel extends FeedPanel {
  constructor(options: FeedPanelOptions) {
    super("Positions", options);
    this.addClass("jp-ibkr-PositionsPanel");
    this.columns = pickColumns(POSITION_COLUMNS, options.columns);
    this.render();
  }

  protected renderPayload(payload: FeedPayload, into: HTMLElement): void {
    if (!this.columns) return; // during the base constructor
    const summaries = element("div", "jp-ibkr-Accounts");
    for (const account of payload.account) {
      const positions = payload.positions.filter((p) => p.account === account.account);
      const sum = (pick: (p: FeedPosition) => number | null) =>
        positions.reduce((total, p) => total + (pick(p) ?? 0), 0);
      const line = element("div", "jp-ibkr-Account");
      line.append(element("span", "jp-ibkr-Account-id", account.account));
      const figure = (label: string, value: number | null, signed = false) => {
        const span = element(
          "span",
          "jp-ibkr-Account-figure",
          `${label} ${value === null ? "–" : formatMoney(value)}`,
        );
        if (signed && value) span.classList.add(value > 0 ? "jp-ibkr-positive" : "jp-ibkr-negative");
        line.append(span);
      };
      figure("Net liq", account.netLiquidation);
      figure(
        "Value",
        sum((p) => p.marketValue),
      );
      figure("Unrealized", account.unrealizedPnl ?? sum((p) => p.unrealizedPnl), true);
      figure("Daily P&L", account.dailyPnl, true);
      line.append(element("span", "jp-ibkr-Account-currency", account.currency));
      summaries.append(line);
    }
    if (payload.account.length) into.append(summaries);
    if (!payload.positions.length) {
      into.append(element("div", "jp-ibkr-Panel-empty", "No positions."));
      return;
    }
    const rows = sortAndFilter(payload.positions, this.columns, this.viewState);
    into.append(
      renderTable({
        columns: this.columns,
        rows,
        state: this.viewState,
        onSort: (column) => this.sortBy(column),
      }),
    );
  }

  private readonly columns: Column<FeedPosition>[];
}

/** IB order statuses after which nothing more happens to an order. */
const DONE_STATUSES: ReadonlySet<string> = new Set(["Filled", "Cancelled", "ApiCancelled", "Inactive"]);

export function isWorking(order: FeedOrder): boolean {
  return !DONE_STATUSES.has(order.status);
}

/** A done order belongs to "done today" when it was last updated on the snapshot's local day. */
export function isDoneToday(order: FeedOrder, snapshotTs: string): boolean {
  if (isWorking(order)) return false;
  const updated = new Date(order.updatedAt);
  const now = new Date(snapshotTs);
  if (Number.isNaN(updated.getTime()) || Number.isNaN(now.getTime())) return true; // unknown: show it
  return updated.toDateString() === now.toDateString();
}

/** Working orders first; finished ones below, under "done today". */
export class OrdersPanel extends FeedPanel {
  constructor(options: FeedPanelOptions) {
    super("Orders", options);
    this.addClass("jp-ibkr-OrdersPanel");
    this.columns = pickColumns(ORDER_COLUMNS, options.columns);
    this.render();
  }

  protected renderPayload(payload: FeedPayload, into: HTMLElement): void {
    if (!this.columns) return; // during the base constructor
    const working = payload.orders.filter(isWorking);
    const done = payload.orders.filter((order) => isDoneToday(order, payload.ts));
    const section = (title: string, orders: FeedOrder[], className: string, empty: string) => {
      const node = element("section", `jp-ibkr-Orders-section ${className}`);
      node.append(element("h3", "jp-ibkr-Orders-heading", `${title} (${orders.length})`));
      if (!orders.length) node.append(element("div", "jp-ibkr-Panel-empty", empty));
      else {
        node.append(
          renderTable({
            columns: this.columns,
            rows: sortAndFilter(orders, this.columns, this.viewState),
            state: this.viewState,
            onSort: (column) => this.sortBy(column),
          }),
        );
      }
      into.append(node);
    };
    section("Working", working, "jp-ibkr-Orders-working", "No working orders.");
    section("Done today", done, "jp-ibkr-Orders-done", "No finished orders today.");
  }

  private readonly columns: Column<FeedOrder>[];
}
