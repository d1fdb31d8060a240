/**
 * Where snapshots come from (DESIGN decision 3): (a) the notebooks' own kernels, read from their iopub
 * stream and never executed into (decision 4); (b) the extension's headless monitor session, which it
 * starts, bootstraps and owns.
 */
import type { Kernel, KernelMessage, Session } from "@jupyterlab/services";
import type { IDisposable } from "@lumino/disposable";
import { type ISignal, Signal } from "@lumino/signaling";
import type { IbkrModel } from "./model";
import { SourceModel } from "./model";

/** The part of an ISessionContext the notebook source reads. */
export interface SessionContextLike {
  readonly path: string;
  readonly iopubMessage: ISignal<unknown, KernelMessage.IMessage>;
  readonly statusChanged: ISignal<unknown, Kernel.Status>;
  readonly kernelChanged: ISignal<unknown, unknown>;
}

/** The part of a NotebookPanel the notebook source reads. */
export interface NotebookLike {
  readonly sessionContext: SessionContextLike;
  readonly title: { readonly label: string };
  readonly disposed: ISignal<unknown, void>;
}

/** The part of INotebookTracker the notebook source reads. */
export interface NotebookTrackerLike {
  readonly currentWidget: NotebookLike | null;
  readonly currentChanged: ISignal<unknown, NotebookLike | null>;
  readonly widgetAdded: ISignal<unknown, NotebookLike>;
  forEach(fn: (widget: NotebookLike) => void): void;
}

export const KERNEL_RESTARTED = "the kernel restarted: run `await connect()` again";
export const KERNEL_DIED = "the kernel died";
export const KERNEL_CHANGED = "the notebook changed kernels: run `await connect()` again";

/**
 * Source (a). Every open notebook gets its own model, fed whether or not it is active: the library
 * publishes only on change, so a notebook switched back to must already hold its latest snapshot.
 */
export class NotebookSource implements IDisposable {
  constructor(
    private readonly tracker: NotebookTrackerLike,
    private readonly model: IbkrModel,
  ) {
    tracker.forEach((panel) => {
      this._track(panel);
    });
    tracker.widgetAdded.connect(this._onWidgetAdded, this);
    tracker.currentChanged.connect(this._onCurrentChanged, this);
    this._onCurrentChanged();
  }

  modelFor(panel: NotebookLike): SourceModel | undefined {
    return this._models.get(panel);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) return;
    this._isDisposed = true;
    Signal.clearData(this);
    for (const model of this._models.values()) model.dispose();
    this._models.clear();
    this.model.setSourceModel("notebook", null);
  }

  private _onWidgetAdded(_: unknown, panel: NotebookLike): void {
    this._track(panel);
  }

  private _track(panel: NotebookLike): void {
    if (this._models.has(panel)) return;
    const model = new SourceModel(panel.title.label || panel.sessionContext.path);
    this._models.set(panel, model);
    const context = panel.sessionContext;
    const onIOPub = (_: unknown, msg: KernelMessage.IMessage) => {
      model.label = panel.title.label || context.path; // follows renames
      model.handleIOPub(msg);
    };
    const onStatus = (_: unknown, status: Kernel.Status) => {
      if (status === "restarting" || status === "autorestarting") model.markDown(KERNEL_RESTARTED);
      else if (status === "dead") model.markDown(KERNEL_DIED);
    };
    const onKernelChanged = () => model.reset(KERNEL_CHANGED);
    context.iopubMessage.connect(onIOPub);
    context.statusChanged.connect(onStatus);
    context.kernelChanged.connect(onKernelChanged);
    const onDisposed = () => {
      context.iopubMessage.disconnect(onIOPub);
      context.statusChanged.disconnect(onStatus);
      context.kernelChanged.disconnect(onKernelChanged);
      panel.disposed.disconnect(onDisposed);
      this._models.delete(panel);
      if (this.model.modelOf("notebook") === model) this.model.setSourceModel("notebook", null);
      model.dispose();
    };
    panel.disposed.connect(onDisposed);
  }

  private _onCurrentChanged(): void {
    const current = this.tracker.currentWidget;
    if (current) this._track(current);
    // Keep showing the last notebook when focus leaves notebooks (a console, the launcher): the
    // panels follow the notebook the analyst was last working in, as the tracker does.
    if (!current) return;
    this.model.setSourceModel("notebook", this._models.get(current) ?? null);
  }

  private readonly _models = new Map<NotebookLike, SourceModel>();
  private _isDisposed = false;
}

/** The monitor's connection settings; each is validated before it goes into bootstrap code. */
export interface MonitorOptions {
  broker: "ibkr-paper" | "ibkr-live";
  host: string;
  /** null: the broker's usual ports. */
  port: number | null;
  clientId: number;
  /** Snapshots per second at most. */
  maxPerSecond: number;
  /** Open the monitor's connection with `trading: true`, so the Orders panel can cancel its orders. */
  trading: boolean;
  /** With trading, also `allowLive: true` when the broker is ibkr-live. Without it a live monitor reads only. */
  allowLive: boolean;
}

const HOST_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+)$/;

/** Checks the settings that go into the monitor's code; throws with the setting's name. */
export function validateMonitorOptions(options: MonitorOptions): MonitorOptions {
  const fail = (what: string): never => {
    throw new Error(`jupyterlab-ibkr settings: ${what}`);
  };
  if (options.broker !== "ibkr-paper" && options.broker !== "ibkr-live")
    fail("broker must be ibkr-paper or ibkr-live");
  if (typeof options.host !== "string" || options.host.length > 253 || !HOST_PATTERN.test(options.host)) {
    fail("host must be a host name or an IP address");
  }
  if (
    options.port !== null &&
    !(Number.isInteger(options.port) && options.port >= 1 && options.port <= 65535)
  ) {
    fail("port must be a whole number from 1 to 65535, or empty");
  }
  if (!(Number.isInteger(options.clientId) && options.clientId >= 0 && options.clientId <= 2147483647)) {
    fail("clientId must be a whole number from 0 to 2147483647");
  }
  if (!(Number.isFinite(options.maxPerSecond) && options.maxPerSecond > 0 && options.maxPerSecond <= 20)) {
    fail("refresh ceiling must be more than 0 and at most 20 updates per second");
  }
  if (typeof options.trading !== "boolean") fail("monitorTrading must be true or false");
  if (typeof options.allowLive !== "boolean") fail("monitorAllowLive must be true or false");
  return options;
}

/**
 * Where the monitor kernel keeps what `monitor()` returned ({ ib, feed, stop }), and the JSON of the
 * options it was started with. Every piece of code the extension runs there goes through these names.
 */
export const MONITOR_GLOBAL = "__ibkrMonitor";
export const MONITOR_CONFIG_GLOBAL = "__ibkrMonitorConfig";

/** The arguments of `monitor(…)`: `trading` only when enabled, `allowLive` only with it, for live. */
export function monitorArguments(options: MonitorOptions): Record<string, unknown> {
  const { broker, host, port, clientId, maxPerSecond, trading, allowLive } = validateMonitorOptions(options);
  const args: Record<string, unknown> = { broker, host, clientId, maxPerSecond };
  if (port !== null) args.port = port;
  if (trading) {
    args.trading = true;
    // The library refuses allowLive for a paper broker, and needs it to trade on a live one.
    if (allowLive && broker === "ibkr-live") args.allowLive = true;
  }
  return args;
}

/** How long a restart waits after closing the old connection, so TWS frees its client id (else 326). */
export const MONITOR_RESTART_PAUSE_MS = 1000;

/**
 * The code the monitor kernel runs. Idempotent: a monitor already running in the kernel with the same
 * options (another tab, a page reload) is kept, and its feed restarted so that it publishes its
 * current state at once; one started with other options (the settings changed) is replaced. With
 * `restart`, the running one is always replaced: that is the panels' Reconnect.
 * Settings reach the code only as JSON literals, after validation: no setting can inject code.
 */
export function monitorBootstrapCode(options: MonitorOptions, { restart = false } = {}): string {
  const args = JSON.stringify(monitorArguments(options));
  // One block, no top-level declarations: the kernel may run this again (restart, another tab).
  return [
    "{",
    '  const { monitor } = await import("ibkr-notebook");',
    "  const shared = globalThis as {",
    `    ${MONITOR_GLOBAL}?: Awaited<ReturnType<typeof monitor>>;`,
    `    ${MONITOR_CONFIG_GLOBAL}?: string;`,
    "  };",
    `  const config = ${JSON.stringify(args)};`,
    restart
      ? `  if (shared.${MONITOR_GLOBAL}) {`
      : `  if (shared.${MONITOR_GLOBAL} && shared.${MONITOR_CONFIG_GLOBAL} !== config) {`,
    `    shared.${MONITOR_GLOBAL}.stop();`,
    `    delete shared.${MONITOR_GLOBAL};`,
    `    await new Promise((resolve) => setTimeout(resolve, ${MONITOR_RESTART_PAUSE_MS}));`,
    "  }",
    `  if (shared.${MONITOR_GLOBAL}) {`,
    `    shared.${MONITOR_GLOBAL}.feed.stop();`,
    `    shared.${MONITOR_GLOBAL}.feed.start();`,
    "  } else {",
    `    shared.${MONITOR_GLOBAL} = await monitor(${args});`,
    `    shared.${MONITOR_CONFIG_GLOBAL} = config;`,
    "  }",
    "}",
  ].join("\n");
}

export const MONITOR_STOP_CODE =
  `(globalThis as { ${MONITOR_GLOBAL}?: { stop(): void } }).${MONITOR_GLOBAL}?.stop(); ` +
  `delete (globalThis as { ${MONITOR_GLOBAL}?: unknown }).${MONITOR_GLOBAL}; ` +
  `delete (globalThis as { ${MONITOR_CONFIG_GLOBAL}?: unknown }).${MONITOR_CONFIG_GLOBAL};`;

/** The line the cancel code prints its outcome on, so the panel finds it among any other output. */
export const RESULT_MARKER = "__ibkr_result__";

/**
 * The code that cancels one order in the monitor kernel (and only there: decision 4). The order id is
 * the only value that reaches it, checked to be a positive safe integer and written with
 * JSON.stringify. The outcome is printed as one marked JSON line, and errors are caught there, so a
 * refused cancel does not fail the execute (tslab aborts queued requests after a failure).
 */
export function monitorCancelCode(orderId: number): string {
  if (!(typeof orderId === "number" && Number.isSafeInteger(orderId) && orderId > 0)) {
    throw new Error(`not an order id: ${String(orderId)}`);
  }
  const id = JSON.stringify(orderId);
  return [
    "{",
    "  const shared = globalThis as {",
    `    ${MONITOR_GLOBAL}?: { ib: { cancelOrder(orderId: number): Promise<{ status: string }> } };`,
    "  };",
    "  let result: { ok: boolean; status?: string; code?: unknown; error?: string };",
    "  try {",
    `    const running = shared.${MONITOR_GLOBAL};`,
    '    if (!running) throw new Error("the monitor is not running in its kernel");',
    `    const trade = await running.ib.cancelOrder(${id});`,
    "    result = { ok: true, status: trade.status };",
    "  } catch (error) {",
    "    const e = error as { message?: unknown; code?: unknown };",
    "    result = { ok: false, code: e?.code, error: String(e?.message ?? error) };",
    "  }",
    `  console.log(${JSON.stringify(RESULT_MARKER)} + JSON.stringify(result));`,
    "}",
  ].join("\n");
}

/** What the cancel code printed, as a sentence for the panel. */
export function describeCancelResult(orderId: number, output: string): string {
  const line = output
    .split("\n")
    .reverse()
    .find((l) => l.startsWith(RESULT_MARKER));
  if (!line)
    return `Order ${orderId}: the monitor gave no answer${output.trim() ? `: ${output.trim()}` : ""}`;
  let result: { ok?: unknown; status?: unknown; code?: unknown; error?: unknown };
  try {
    result = JSON.parse(line.slice(RESULT_MARKER.length)) as typeof result;
  } catch {
    return `Order ${orderId}: unreadable answer from the monitor: ${line}`;
  }
  if (result.ok === true)
    return `Order ${orderId}: cancel sent; status ${String(result.status ?? "unknown")}.`;
  // TWS confirms a cancel with "error" 202; the library rejects with it for an order it did not place.
  if (result.code === 202) return `Order ${orderId}: cancelled (${String(result.error ?? "")}).`;
  throw new Error(`order ${orderId} was not cancelled: ${String(result.error ?? "unknown error")}`);
}

/** The part of Session.IManager the monitor uses. */
export type SessionManagerLike = Pick<Session.IManager, "findByPath" | "connectTo" | "startNew">;

export interface MonitorSettings extends MonitorOptions {
  /** The session's path: the kernel's working directory is its folder, where ibkr-notebook must resolve. */
  path: string;
  kernelName: string;
}

export type MonitorStatus = "stopped" | "starting" | "running" | "failed";

/**
 * Source (b): one headless tslab session at a fixed path, shared by every tab (found again with
 * findByPath), bootstrapped with `monitor()` and re-bootstrapped after a kernel restart.
 */
export class MonitorSource implements IDisposable {
  constructor(
    private readonly sessions: SessionManagerLike,
    private readonly model: IbkrModel,
    private settings: MonitorSettings,
  ) {
    this.model.setSourceModel("monitor", this.sourceModel);
  }

  readonly sourceModel = new SourceModel("monitor");

  get status(): MonitorStatus {
    return this._status;
  }

  /** Why the last start failed. */
  get failure(): string | null {
    return this._failure;
  }

  get statusChanged(): ISignal<this, MonitorStatus> {
    return this._statusChanged;
  }

  /** Applies at the next (re)start; `trading` (whether the panel may cancel) applies at once. */
  configure(settings: MonitorSettings): void {
    this.settings = settings;
  }

  /**
   * Whether the settings allow cancelling from the panel. The running monitor must also have been
   * started with trading: its snapshots say so (`connection.trading`), and the panel checks both.
   */
  get trading(): boolean {
    return this.settings.trading === true;
  }

  /** Replaces the monitor() running in the kernel with a fresh one (new connection, current settings). */
  async reconnect(): Promise<void> {
    if (this._status === "starting") return;
    if (!this._session?.kernel) return this.start();
    try {
      await this._bootstrap(monitorBootstrapCode(this.settings, { restart: true }));
    } catch (error) {
      this._fail(error);
      throw error;
    }
  }

  /**
   * Cancels one order through the monitor's connection: only with trading enabled in the settings,
   * only a positive whole order id, only in the monitor kernel. Resolves with what happened, as a
   * sentence; rejects with the reason it did not.
   */
  async cancelOrder(orderId: number): Promise<string> {
    const code = monitorCancelCode(orderId); // throws for anything but a positive safe integer
    if (!this.trading) throw new Error("trading from the panel is off (setting monitorTrading)");
    const kernel = this._session?.kernel;
    if (this._status !== "running" || !kernel) throw new Error("the monitor is not running");
    const future = kernel.requestExecute({ code, silent: true, store_history: false });
    let output = "";
    future.onIOPub = (msg: KernelMessage.IIOPubMessage) => {
      if (msg.header.msg_type === "stream") output += (msg.content as { text?: string }).text ?? "";
    };
    const reply = await future.done;
    if (reply.content.status !== "ok") {
      const content = reply.content as { ename?: string; evalue?: string };
      throw new Error(`the monitor kernel failed: ${content.ename ?? "error"}: ${content.evalue ?? ""}`);
    }
    return describeCancelResult(orderId, output);
  }

  /** Finds the shared session or starts it, then bootstraps it. */
  async start(): Promise<void> {
    if (this._status === "starting" || this._status === "running") return;
    this._setStatus("starting");
    try {
      const code = monitorBootstrapCode(this.settings); // before any session: bad settings start nothing
      if (!this._session) {
        const { path, kernelName } = this.settings;
        const found = await this.sessions.findByPath(path);
        const session = found
          ? this.sessions.connectTo({ model: found })
          : await this.sessions.startNew({
              path,
              type: "ibkr-monitor",
              name: "ibkr-monitor",
              kernel: { name: kernelName },
            });
        this._session = session;
        session.iopubMessage.connect(this._onIOPub, this);
        session.statusChanged.connect(this._onStatus, this);
        session.kernelChanged.connect(this._onKernelChanged, this);
      }
      await this._bootstrap(code);
    } catch (error) {
      this._fail(error);
    }
  }

  /** Stops monitor() and shuts the session down, for every tab. */
  async stop(): Promise<void> {
    const session = this._session;
    if (!session) return;
    this._detach(session);
    try {
      await session.kernel?.requestExecute({ code: MONITOR_STOP_CODE, silent: true, store_history: false })
        .done;
    } catch {
      // The shutdown below ends it anyway (the library closes its socket on SIGTERM).
    }
    await session.shutdown();
    this.sourceModel.reset("the monitor is stopped");
    this._setStatus("stopped");
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Leaves the shared session running for the other tabs. */
  dispose(): void {
    if (this._isDisposed) return;
    this._isDisposed = true;
    if (this._session) this._detach(this._session);
    this.sourceModel.dispose();
    Signal.clearData(this);
  }

  private async _bootstrap(code?: string): Promise<void> {
    const kernel = this._session?.kernel;
    if (!kernel) throw new Error("the monitor session has no kernel");
    this._setStatus("starting");
    // In a kernel the extension owns, executing is safe (decision 4 forbids it only in users' kernels).
    const reply = await kernel.requestExecute({
      code: code ?? monitorBootstrapCode(this.settings),
      silent: true,
      store_history: false,
    }).done;
    if (reply.content.status !== "ok") {
      const content = reply.content as { ename?: string; evalue?: string };
      throw new Error(
        `monitor() failed in the monitor kernel: ${content.ename ?? "error"}: ${content.evalue ?? ""}`,
      );
    }
    this._setStatus("running");
  }

  private _onIOPub(_: unknown, msg: KernelMessage.IIOPubMessage): void {
    this.sourceModel.handleIOPub(msg);
  }

  private _onStatus(_: unknown, status: Kernel.Status): void {
    if (status === "restarting" || status === "autorestarting") {
      this._restarted = true;
      this.sourceModel.markDown("the monitor kernel is restarting");
    } else if (status === "dead") {
      this.sourceModel.markDown("the monitor kernel died");
      this._setStatus("failed");
    } else if (status === "idle" && this._restarted) {
      this._restarted = false;
      this._bootstrap().catch((error) => this._fail(error));
    }
  }

  private _onKernelChanged(): void {
    this.sourceModel.reset("the monitor kernel changed");
    if (this._session?.kernel) this._bootstrap().catch((error) => this._fail(error));
  }

  private _detach(session: Session.ISessionConnection): void {
    session.iopubMessage.disconnect(this._onIOPub, this);
    session.statusChanged.disconnect(this._onStatus, this);
    session.kernelChanged.disconnect(this._onKernelChanged, this);
    this._session = null;
  }

  private _fail(error: unknown): void {
    this._failure = error instanceof Error ? error.message : String(error);
    this.sourceModel.markDown(`the monitor failed to start: ${this._failure}`);
    this._setStatus("failed");
  }

  private _setStatus(status: MonitorStatus): void {
    if (status === this._status) return;
    this._status = status;
    if (status !== "failed") this._failure = null;
    this._statusChanged.emit(status);
  }

  private _session: Session.ISessionConnection | null = null;
  private _status: MonitorStatus = "stopped";
  private _failure: string | null = null;
  private _restarted = false;
  private _isDisposed = false;
  private readonly _statusChanged = new Signal<this, MonitorStatus>(this);
}
