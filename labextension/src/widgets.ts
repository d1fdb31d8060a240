/**
 * Thin widgets over IbkrModel: the connection badge (status bar and panel headers) and the Positions
 * and Orders panels. They hold only view state (sort, filter, focused row) and re-render on the
 * model's `changed`, coalesced by Lumino's update requests to at most one render per frame. Tables
 * are virtualized (table.ts) and kept across renders, so the scroll position and focus survive
 * snapshots.
 *
 * Actions: copy a position as code (clipboard only), reconnect (the monitor: a fresh monitor(); a
 * notebook: explained, never run), and cancel an order, only through the monitor kernel, only with
 * trading enabled, only after a confirmation that names the account, symbol, side, quantity and id.
 */
import type { Message } from "@lumino/messaging";
import type { ISignal } from "@lumino/signaling";
import { Widget } from "@lumino/widgets";
import { copyToClipboard, isId, notebookCancelCode, positionCode } from "./code";
import {
  type Badge,
  badgeFor,
  EMPTY_HINT,
  formatTime,
  type IbkrModel,
  isWorking,
  SOURCE_LABELS,
  type SourceKind,
  type SourceModel,
} from "./model";
import type { FeedOrder, FeedPayload, FeedPosition } from "./payload";
import type { MonitorStatus } from "./sources";
import {
  type Column,
  formatCell,
  formatMoney,
  nextSort,
  ORDER_COLUMNS,
  POSITION_COLUMNS,
  pickColumns,
  sortAndFilter,
  type TableViewState,
  VirtualTable,
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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

/** What the panels need of the monitor (MonitorSource implements it). */
export interface MonitorControls {
  readonly status: MonitorStatus;
  readonly failure: string | null;
  readonly statusChanged: ISignal<unknown, MonitorStatus>;
  /** The settings allow cancelling from the panel (monitorTrading). */
  readonly trading: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A fresh monitor() in the monitor kernel (or a start, when it is not running). */
  reconnect(): Promise<void>;
  /** Cancels one order in the monitor kernel; resolves with what happened, as a sentence. */
  cancelOrder(orderId: number): Promise<string>;
}

/** What the confirmation dialog says about an order to cancel; every value is shown as text. */
export interface CancelDetails {
  title: string;
  /** The account is a live (real money) one. */
  live: boolean;
  fields: ReadonlyArray<readonly [label: string, value: string]>;
  /** Which connection sends the cancel. */
  via: string;
}

export function cancelDetails(order: FeedOrder, payload: FeedPayload): CancelDetails {
  const price =
    order.lmtPrice !== null
      ? ` ${formatMoney(order.lmtPrice)}`
      : order.auxPrice !== null
        ? ` ${formatMoney(order.auxPrice)}`
        : "";
  const { clientId, host, port } = payload.source;
  return {
    title: `Cancel order ${order.orderId}?`,
    live: payload.source.live,
    fields: [
      ["Account", order.account],
      ["Symbol", order.symbol],
      ["Side", order.action],
      ["Quantity", formatCell(order.quantity)],
      ["Order id", String(order.orderId)],
      ["Type", `${order.orderType}${price} ${order.tif}`.trim()],
      ["Status", `${order.status}, filled ${formatCell(order.filled)} of ${formatCell(order.quantity)}`],
    ],
    via: `Sent by the monitor kernel (client id ${clientId ?? "?"} at ${host}:${port ?? "?"}), not by a notebook.`,
  };
}

/** The dialog's body: text nodes only. */
export function cancelDialogBody(details: CancelDetails): HTMLElement {
  const body = element("div", "jp-ibkr-CancelDialog");
  if (details.live) {
    body.append(element("p", "jp-ibkr-CancelDialog-live", "LIVE account: this changes a real-money order."));
  }
  const list = element("dl", "jp-ibkr-CancelDialog-fields");
  for (const [label, value] of details.fields)
    list.append(element("dt", undefined, label), element("dd", undefined, value));
  body.append(list, element("p", "jp-ibkr-CancelDialog-via", details.via));
  return body;
}

/** Whether an order's Cancel button works, and why not. */
export interface CancelContext {
  source: SourceKind;
  payload: FeedPayload;
  monitor: MonitorControls | null;
  /** A confirmation dialog is available (the plugin provides one; without it nothing is cancelled). */
  canConfirm: boolean;
}

/** Paper account ids, as the library tells them (isPaperAccount in ibkr-notebook's safety/guard.ts). */
const PAPER_ACCOUNT = /^D[UF]/;

/**
 * Why the monitor's connection may not change orders, in the terms of the library's trading guard
 * (which refuses the same cancel in the kernel) and of the settings that would change it.
 */
function readOnlyReason(payload: FeedPayload): string {
  const { live, broker, accounts } = payload.source;
  if (!live) {
    return "The monitor's connection is read-only (started without trading): Reconnect the monitor to apply Monitor trading.";
  }
  if (broker === "ibkr-paper") {
    // allowLive does not apply to a paper broker: the setting that matters is the broker.
    const liveAccounts = accounts.filter((account) => !PAPER_ACCOUNT.test(account)).join(", ");
    return `The monitor's broker is ibkr-paper but TWS is logged into live account ${liveAccounts || "(unknown)"}, so its connection is read-only. Log TWS into the paper account; or, to change live orders from the panel, set Broker to ibkr-live and turn on Monitor trading on a live account (monitorAllowLive); then Reconnect.`;
  }
  return "The monitor's connection to this live account is read-only: it also needs Monitor trading on a live account (monitorAllowLive); then Reconnect.";
}

export function cancelAvailability(
  order: FeedOrder,
  context: CancelContext,
): { enabled: boolean; title: string } {
  const no = (title: string) => ({ enabled: false, title });
  const { payload, monitor } = context;
  const inNotebook = notebookCancelCode(order);
  const there = inNotebook ? ` To cancel it where it was placed, run ${inNotebook} in that notebook.` : "";
  if (context.source !== "monitor") {
    return no(
      `Orders are cancelled only through the monitor kernel: the panels never run code in a notebook's kernel.${there}`,
    );
  }
  if (!monitor) return no("The monitor is off in the settings.");
  if (monitor.status !== "running") return no("The monitor is not running.");
  if (!monitor.trading) {
    return no(
      "Cancelling from the panel is off: turn on Monitor trading in the settings, then Reconnect the monitor.",
    );
  }
  if (!payload.connection.trading) return no(readOnlyReason(payload));
  if (payload.connection.readOnlyApi) return no(READ_ONLY_API);
  if (payload.connection.state !== "connected") return no(`The monitor is ${payload.connection.state}.`);
  if (!isWorking(order)) return no(`The order is finished (${order.status}).`);
  if (!isId(order.orderId)) return no("This order has no API order id (placed in TWS?).");
  if (order.clientId !== payload.source.clientId) {
    return no(
      `Placed by client ${order.clientId}; TWS lets only the client that placed an order cancel it (the monitor is client ${payload.source.clientId ?? "?"}).${there}`,
    );
  }
  if (!context.canConfirm) return no("No confirmation dialog is available.");
  return { enabled: true, title: `Cancel order ${order.orderId} (asks first)` };
}

const READ_ONLY_API =
  'TWS\'s "Read-Only API" setting is ticked. Untick it in TWS: File → Global Configuration → API → Settings (IB Gateway: Configure → Settings → API → Settings); it applies at once.';

export const NOTEBOOK_RECONNECT_HINT =
  "The panels never run code in a notebook's kernel. The notebook's own connection reconnects by itself " +
  "(the badge shows RECONNECTING meanwhile); after a kernel restart, run `await connect()` in the notebook again.";

export interface FeedPanelOptions {
  model: IbkrModel;
  monitor?: MonitorControls | null;
  /** Column ids to show, from the settings; empty or unknown ids: all columns. */
  columns?: readonly string[];
  /** Asks before an order is cancelled (JupyterLab's showDialog in the plugin); resolves true to go on. */
  confirmCancel?: (details: CancelDetails) => Promise<boolean>;
  /** Puts code on the clipboard; default: the Clipboard API with a fallback. */
  copy?: (text: string) => Promise<boolean>;
}

export type MessageKind = "info" | "error";

/** What the Positions and Orders panels share: header (title, badge, source, actions, filter), notices. */
abstract class FeedPanel extends Widget {
  constructor(title: string, options: FeedPanelOptions) {
    super();
    this.model = options.model;
    this.monitor = options.monitor ?? null;
    this.confirmCancel = options.confirmCancel ?? null;
    this.copy = options.copy ?? copyToClipboard;
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
    this.reconnectButton.type = "button";
    this.reconnectButton.className = "jp-mod-styled jp-ibkr-Panel-reconnect";
    this.reconnectButton.textContent = "Reconnect";
    this.reconnectButton.addEventListener("click", () => this.reconnect());
    this.filterInput.type = "search";
    this.filterInput.className = "jp-mod-styled jp-ibkr-Panel-filter";
    this.filterInput.placeholder = "Filter";
    this.filterInput.setAttribute("aria-label", `Filter ${title.toLowerCase()}`);
    this.filterInput.addEventListener("input", () => {
      this.view = { ...this.view, filter: this.filterInput.value };
      this.update();
    });
    controls.append(this.sourceSelect, this.monitorButton, this.reconnectButton, this.filterInput);
    header.append(titleRow, controls);
    this.messageNode.className = "jp-ibkr-Panel-message";
    this.messageNode.setAttribute("role", "status");
    this.messageNode.hidden = true;
    this.node.append(header, this.noticeNode, this.messageNode, this.contentNode);
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

  /** The last action's outcome ("Copied …", a cancel's result or error), as shown. */
  get message(): { text: string; kind: MessageKind } | null {
    return this._message;
  }

  /** Shows an action's outcome under the header, as text. */
  showMessage(text: string, kind: MessageKind = "info"): void {
    this._message = { text, kind };
    this.messageNode.textContent = text;
    this.messageNode.hidden = false;
    this.messageNode.classList.toggle("jp-ibkr-mod-error", kind === "error");
  }

  /** Renders now; the model's signals go through update() to coalesce. */
  render(): void {
    const model = this.model.current;
    const sourceName = SOURCE_LABELS[this.model.selected];
    renderBadge(this.badgeNode, badgeFor(model, sourceName), true);
    this.sourceSelect.value = this.model.selected;
    this.renderMonitorButton();

    const payload = model?.error ? null : (model?.payload ?? null);
    const notice = model?.error
      ? `The feed sent a snapshot this extension cannot read, so nothing is shown: ${model.error}`
      : !payload
        ? this.model.selected === "monitor" && this.monitor?.status === "failed"
          ? `The monitor failed: ${this.monitor.failure ?? "unknown error"}`
          : `Nothing to show yet: ${EMPTY_HINT}.`
        : model?.down
          ? `Last snapshot from ${formatTime(payload.ts)}; ${model.down.reason}.`
          : this.contentNotice(payload);
    this.noticeNode.textContent = notice;
    this.noticeNode.hidden = notice === "";
    this.noticeNode.classList.toggle("jp-ibkr-mod-error", Boolean(model?.error));
    this.node.classList.toggle("jp-ibkr-mod-down", Boolean(model?.down));
    this.contentNode.hidden = payload === null;
    this.renderContent(payload, model);
  }

  /** Updates the panel's own (persistent) content nodes; payload null: nothing to show. */
  protected abstract renderContent(payload: FeedPayload | null, source: SourceModel | null): void;

  /** What the panel's content lacks and why, for a readable snapshot ("" when nothing). */
  protected contentNotice(_payload: FeedPayload): string {
    return "";
  }

  /** The panel's tables, to refresh when the panel is shown or resized. */
  protected abstract tables(): ReadonlyArray<VirtualTable<never>>;

  protected sortBy<T>(column: Column<T>): void {
    this.view = nextSort(this.view, column);
    this.render();
  }

  protected override onUpdateRequest(): void {
    this.render();
  }

  protected override onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    for (const table of this.tables()) table.refresh();
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    for (const table of this.tables()) table.refresh();
  }

  override dispose(): void {
    if (this.isDisposed) return;
    for (const table of this.tables()) table.dispose();
    super.dispose();
  }

  /** The monitor's reconnect, or for a notebook, why the panel does not do it. */
  reconnect(): Promise<void> {
    if (this.model.selected !== "monitor") {
      this.showMessage(NOTEBOOK_RECONNECT_HINT);
      return Promise.resolve();
    }
    const monitor = this.monitor;
    if (!monitor) {
      this.showMessage("The monitor is off in the settings (Monitor).", "error");
      return Promise.resolve();
    }
    this.showMessage("Reconnecting the monitor…");
    return monitor.reconnect().then(
      () => {
        if (monitor.status === "running")
          this.showMessage("The monitor reconnected with the current settings.");
        else this.showMessage(`The monitor did not reconnect: ${monitor.failure ?? monitor.status}`, "error");
      },
      (error: unknown) => this.showMessage(`The monitor did not reconnect: ${messageOf(error)}`, "error"),
    );
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
    this.reconnectButton.disabled = this.model.selected === "monitor" && monitor.status === "starting";
  }

  private toggleMonitor(): void {
    const monitor = this.monitor;
    if (!monitor) return;
    const action = monitor.status === "running" ? monitor.stop() : monitor.start();
    action.catch((error: unknown) => this.showMessage(`Monitor: ${messageOf(error)}`, "error"));
  }

  protected readonly model: IbkrModel;
  protected readonly monitor: MonitorControls | null;
  protected readonly confirmCancel: ((details: CancelDetails) => Promise<boolean>) | null;
  protected readonly copy: (text: string) => Promise<boolean>;
  protected readonly contentNode = element("div");
  private view: TableViewState = { sortBy: null, descending: false, filter: "" };
  private _message: { text: string; kind: MessageKind } | null = null;
  private readonly badgeNode = element("span");
  private readonly sourceSelect = element("select");
  private readonly monitorButton = element("button");
  private readonly reconnectButton = element("button");
  private readonly filterInput = element("input");
  private readonly noticeNode = element("div");
  private readonly messageNode = element("div");
}

function positionKey(position: FeedPosition): string {
  return `${position.account}\u0000${position.conId}\u0000${position.localSymbol || position.symbol}`;
}

/** Positions with per-account totals. Enter (or the row's Copy) copies the position as code. */
export class PositionsPanel extends FeedPanel {
  constructor(options: FeedPanelOptions) {
    super("Positions", options);
    this.addClass("jp-ibkr-PositionsPanel");
    this.columns = pickColumns(POSITION_COLUMNS, options.columns);
    this.table = new VirtualTable<FeedPosition>({
      columns: this.columns,
      rowKey: positionKey,
      label: "Positions",
      onSort: (column) => this.sortBy(column),
      onActivate: (position) => void this.copyAsCode(position),
      action: {
        label: "Code",
        text: () => "Copy",
        state: (position) => ({ enabled: true, title: `Copy ${positionCode(position)} for a cell` }),
        run: (position) => void this.copyAsCode(position),
      },
    });
    this.contentNode.append(this.summaries, this.empty, this.table.node);
    this.render();
  }

  /** Puts the position's contract code on the clipboard and says what it copied. */
  async copyAsCode(position: FeedPosition): Promise<string> {
    const code = positionCode(position);
    const copied = await this.copy(code).catch(() => false);
    if (copied) this.showMessage(`Copied: ${code}`);
    else this.showMessage(`The clipboard is not available; the code is: ${code}`, "error");
    return code;
  }

  /** The positions table (virtualized). */
  get positionsTable(): VirtualTable<FeedPosition> {
    return this.table;
  }

  protected tables(): ReadonlyArray<VirtualTable<never>> {
    return this.table ? [this.table as unknown as VirtualTable<never>] : [];
  }

  protected renderContent(payload: FeedPayload | null): void {
    if (!this.table) return; // during the base constructor
    if (!payload) {
      this.table.setRows([], this.viewState);
      return;
    }
    this.renderSummaries(payload);
    const none = payload.positions.length === 0;
    this.empty.hidden = !none;
    this.table.node.hidden = none;
    this.table.setRows(
      none ? [] : sortAndFilter(payload.positions, this.columns, this.viewState),
      this.viewState,
    );
  }

  private renderSummaries(payload: FeedPayload): void {
    const byAccount = new Map<string, FeedPosition[]>();
    for (const p of payload.positions) {
      const list = byAccount.get(p.account);
      if (list) list.push(p);
      else byAccount.set(p.account, [p]);
    }
    const lines: HTMLElement[] = [];
    for (const account of payload.account) {
      const positions = byAccount.get(account.account) ?? [];
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
      lines.push(line);
    }
    this.summaries.replaceChildren(...lines);
    this.summaries.hidden = lines.length === 0;
  }

  private readonly columns: Column<FeedPosition>[];
  private readonly table: VirtualTable<FeedPosition>;
  private readonly summaries = element("div", "jp-ibkr-Accounts");
  private readonly empty = element("div", "jp-ibkr-Panel-empty", "No positions.");
}

export { isWorking };

/** A done order belongs to "done today" when it was last updated on the snapshot's local day. */
export function isDoneToday(order: FeedOrder, snapshotTs: string): boolean {
  if (isWorking(order)) return false;
  const updated = new Date(order.updatedAt);
  const now = new Date(snapshotTs);
  if (Number.isNaN(updated.getTime()) || Number.isNaN(now.getTime())) return true; // unknown: show it
  return updated.toDateString() === now.toDateString();
}

/** An order's identity across snapshots: order ids are per client; TWS-placed ones go by permId. */
export function orderKey(order: FeedOrder): string {
  return order.orderId > 0 ? `${order.clientId}:${order.orderId}` : `perm:${order.permId}`;
}

/** How long a finished order stays (fading) in the working list before it leaves it. */
export const FADE_MS = 1500;

/** The class of a finished order fading out of the working list, and of its row arriving in done today. */
export const LEAVING_CLASS = "jp-ibkr-mod-leaving";
export const ARRIVED_CLASS = "jp-ibkr-mod-arrived";

/**
 * Working orders first; finished ones below, under "done today". Delete on the focused row (or the
 * row's Cancel) cancels the order, after the checks and the confirmation. An order that finishes while shown
 * stays in the working list for FADE_MS with LEAVING_CLASS (a CSS transition fades it), then leaves it;
 * it is listed under done today at once.
 */
export class OrdersPanel extends FeedPanel {
  constructor(options: FeedPanelOptions) {
    super("Orders", options);
    this.addClass("jp-ibkr-OrdersPanel");
    this.columns = pickColumns(ORDER_COLUMNS, options.columns);
    const action = {
      label: "Cancel",
      text: () => "Cancel",
      state: (order: FeedOrder) => this.cancelState(order),
      run: (order: FeedOrder) => void this.cancel(order),
    };
    const section = (title: string, className: string, empty: string) => {
      const node = element("section", `jp-ibkr-Orders-section ${className}`);
      const heading = element("h3", "jp-ibkr-Orders-heading", title);
      const emptyNode = element("div", "jp-ibkr-Panel-empty", empty);
      const table = new VirtualTable<FeedOrder>({
        columns: this.columns,
        rowKey: orderKey,
        label: title,
        onSort: (column) => this.sortBy(column),
        rowClass: (order) => this.rowClass(order, className),
        action,
        // The keyboard's Cancel button: the same checks and confirmation, or the reason it cannot.
        keyActions: { Delete: (order) => void this.cancel(order) },
      });
      node.append(heading, emptyNode, table.node);
      this.contentNode.append(node);
      return { node, heading, empty: emptyNode, table, title };
    };
    this.working = section("Working", "jp-ibkr-Orders-working", "No working orders.");
    this.done = section("Done today", "jp-ibkr-Orders-done", "No finished orders today.");
    this.render();
  }

  get workingTable(): VirtualTable<FeedOrder> {
    return this.working.table;
  }

  get doneTable(): VirtualTable<FeedOrder> {
    return this.done.table;
  }

  /** Why an order's Cancel button is (not) enabled; the button's tooltip. */
  cancelState(order: FeedOrder): { enabled: boolean; title: string } {
    const payload = this.model.current?.error ? null : this.model.current?.payload;
    if (!payload) return { enabled: false, title: "No snapshot." };
    return cancelAvailability(order, {
      source: this.model.selected,
      payload,
      monitor: this.monitor,
      canConfirm: this.confirmCancel !== null,
    });
  }

  /**
   * Cancels an order: checks, asks, checks again against the latest snapshot (the order may have
   * filled while the dialog was open), then runs the cancel in the monitor kernel.
   */
  async cancel(order: FeedOrder): Promise<void> {
    const before = this.cancelState(order);
    const payload = this.model.current?.payload;
    if (!before.enabled || !payload || !this.confirmCancel || !this.monitor) {
      this.showMessage(`Order ${order.orderId} was not cancelled: ${before.title}`, "error");
      return;
    }
    const confirmed = await this.confirmCancel(cancelDetails(order, payload));
    if (!confirmed) return;
    const key = orderKey(order);
    const latest = this.model.current?.payload?.orders.find((o) => orderKey(o) === key);
    const after = latest
      ? this.cancelState(latest)
      : { enabled: false, title: "The order is gone from the feed." };
    if (!latest || !after.enabled) {
      this.showMessage(`Order ${order.orderId} was not cancelled: ${after.title}`, "error");
      return;
    }
    this.showMessage(`Cancelling order ${latest.orderId}…`);
    try {
      this.showMessage(await this.monitor.cancelOrder(latest.orderId));
    } catch (error) {
      this.showMessage(`Order ${latest.orderId} was not cancelled: ${messageOf(error)}`, "error");
    }
  }

  override dispose(): void {
    this.clearLeaving();
    super.dispose();
  }

  protected tables(): ReadonlyArray<VirtualTable<never>> {
    if (!this.working) return [];
    return [this.working.table, this.done.table] as unknown as ReadonlyArray<VirtualTable<never>>;
  }

  protected override contentNotice(payload: FeedPayload): string {
    return payload.connection.readOnlyApi
      ? `TWS refused to list orders, so only those this connection placed or heard of show: ${READ_ONLY_API}`
      : "";
  }

  protected renderContent(payload: FeedPayload | null, source: SourceModel | null): void {
    if (!this.working) return; // during the base constructor
    this.trackTransitions(payload, source);
    const orders = payload?.orders ?? [];
    const working = orders.filter((order) => isWorking(order) || this.leaving.has(orderKey(order)));
    const done = payload ? orders.filter((order) => isDoneToday(order, payload.ts)) : [];
    const fill = (section: OrdersPanel["working"], rows: FeedOrder[], count: number) => {
      section.heading.textContent = `${section.title} (${count})`;
      section.empty.hidden = rows.length > 0;
      section.table.node.hidden = rows.length === 0;
      section.table.setRows(sortAndFilter(rows, this.columns, this.viewState), this.viewState);
    };
    fill(this.working, working, working.length - this.leavingCount(working));
    fill(this.done, done, done.length);
  }

  private leavingCount(rows: FeedOrder[]): number {
    return rows.filter((order) => !isWorking(order)).length;
  }

  private rowClass(order: FeedOrder, section: string): string | undefined {
    if (!this.leaving.has(orderKey(order))) return undefined;
    return section === "jp-ibkr-Orders-working" ? LEAVING_CLASS : ARRIVED_CLASS;
  }

  /** Notes orders that went from working to finished since the last snapshot of the same source. */
  private trackTransitions(payload: FeedPayload | null, source: SourceModel | null): void {
    if (payload === this.lastPayload && source === this.lastSource) return;
    if (source !== this.lastSource || !payload) {
      this.clearLeaving();
      this.wasWorking.clear();
    }
    this.lastPayload = payload;
    this.lastSource = source;
    if (!payload) return;
    const next = new Map<string, boolean>();
    for (const order of payload.orders) {
      const key = orderKey(order);
      const working = isWorking(order);
      next.set(key, working);
      if (!working && this.wasWorking.get(key) === true && !this.leaving.has(key)) {
        const timer = setTimeout(() => {
          this.leaving.delete(key);
          this.update();
        }, FADE_MS);
        this.leaving.set(key, timer);
      } else if (working && this.leaving.has(key)) {
        clearTimeout(this.leaving.get(key));
        this.leaving.delete(key);
      }
    }
    for (const [key, timer] of this.leaving) {
      if (!next.has(key)) {
        clearTimeout(timer);
        this.leaving.delete(key);
      }
    }
    this.wasWorking = next;
  }

  private clearLeaving(): void {
    for (const timer of this.leaving.values()) clearTimeout(timer);
    this.leaving.clear();
  }

  private readonly columns: Column<FeedOrder>[];
  private readonly working: {
    node: HTMLElement;
    heading: HTMLElement;
    empty: HTMLElement;
    table: VirtualTable<FeedOrder>;
    title: string;
  };
  private readonly done: OrdersPanel["working"];
  private lastPayload: FeedPayload | null = null;
  private lastSource: SourceModel | null = null;
  private wasWorking = new Map<string, boolean>();
  private readonly leaving = new Map<string, ReturnType<typeof setTimeout>>();
}
