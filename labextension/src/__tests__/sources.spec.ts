import type { Kernel, KernelMessage, Session } from "@jupyterlab/services";
import { Signal } from "@lumino/signaling";
import ts from "typescript";
import { IbkrModel } from "../model";
import {
  describeCancelResult,
  KERNEL_CHANGED,
  KERNEL_DIED,
  KERNEL_RESTARTED,
  MONITOR_GLOBAL,
  MONITOR_STOP_CODE,
  type MonitorSettings,
  MonitorSource,
  monitorArguments,
  monitorBootstrapCode,
  monitorCancelCode,
  type NotebookLike,
  NotebookSource,
  type NotebookTrackerLike,
  type SessionManagerLike,
} from "../sources";
import { feedMessage, iopub, payload } from "./fixtures";

/** A stand-in for a NotebookPanel and its ISessionContext, emitting what JupyterLab emits. */
class FakeNotebook implements NotebookLike {
  constructor(name: string) {
    this.title = { label: name };
    this.sessionContext = {
      path: name,
      iopubMessage: new Signal<unknown, KernelMessage.IMessage>(this),
      statusChanged: new Signal<unknown, Kernel.Status>(this),
      kernelChanged: new Signal<unknown, unknown>(this),
    };
  }
  readonly title: { label: string };
  readonly sessionContext: {
    path: string;
    iopubMessage: Signal<unknown, KernelMessage.IMessage>;
    statusChanged: Signal<unknown, Kernel.Status>;
    kernelChanged: Signal<unknown, unknown>;
  };
  readonly disposed = new Signal<unknown, void>(this);
  send(p: unknown) {
    this.sessionContext.iopubMessage.emit(feedMessage(p));
  }
}

class FakeTracker implements NotebookTrackerLike {
  currentWidget: FakeNotebook | null = null;
  readonly currentChanged = new Signal<unknown, NotebookLike | null>(this);
  readonly widgetAdded = new Signal<unknown, NotebookLike>(this);
  readonly widgets: FakeNotebook[] = [];
  forEach(fn: (widget: NotebookLike) => void) {
    this.widgets.forEach(fn);
  }
  open(name: string): FakeNotebook {
    const panel = new FakeNotebook(name);
    this.widgets.push(panel);
    this.widgetAdded.emit(panel);
    this.activate(panel);
    return panel;
  }
  activate(panel: FakeNotebook | null) {
    this.currentWidget = panel;
    this.currentChanged.emit(panel);
  }
  close(panel: FakeNotebook) {
    this.widgets.splice(this.widgets.indexOf(panel), 1);
    panel.disposed.emit();
    if (this.currentWidget === panel) this.activate(this.widgets[0] ?? null);
  }
}

describe("NotebookSource", () => {
  function setUp() {
    const tracker = new FakeTracker();
    const model = new IbkrModel("notebook");
    const source = new NotebookSource(tracker, model);
    return { tracker, model, source };
  }

  it("shows the active notebook's feed", () => {
    const { tracker, model } = setUp();
    const a = tracker.open("a.ipynb");
    a.send(payload({ seq: 1 }));
    expect(model.current?.label).toBe("a.ipynb");
    expect(model.current?.payload?.seq).toBe(1);
  });

  it("follows notebook switches, and a notebook switched back to still has its latest snapshot", () => {
    const { tracker, model } = setUp();
    const a = tracker.open("a.ipynb");
    const b = tracker.open("b.ipynb");
    expect(model.current?.label).toBe("b.ipynb");
    expect(model.current?.payload).toBeNull();
    a.send(payload({ seq: 7 })); // a background notebook publishes
    expect(model.current?.payload).toBeNull();
    tracker.activate(a);
    expect(model.current?.payload?.seq).toBe(7);
    b.send(payload({ seq: 3 }));
    tracker.activate(b);
    expect(model.current?.payload?.seq).toBe(3);
  });

  it("keeps the last notebook when focus leaves notebooks", () => {
    const { tracker, model } = setUp();
    tracker.open("a.ipynb");
    tracker.activate(null);
    expect(model.current?.label).toBe("a.ipynb");
  });

  it("picks up notebooks already open when it starts", () => {
    const tracker = new FakeTracker();
    const a = tracker.open("a.ipynb");
    const model = new IbkrModel();
    new NotebookSource(tracker, model);
    a.send(payload());
    expect(model.current?.payload).not.toBeNull();
  });

  it.each([
    ["restarting", KERNEL_RESTARTED],
    ["autorestarting", KERNEL_RESTARTED],
    ["dead", KERNEL_DIED],
  ] as const)("marks the source disconnected when the kernel is %s", (status, reason) => {
    const { tracker, model } = setUp();
    const a = tracker.open("a.ipynb");
    a.send(payload());
    const changes = jest.fn();
    model.changed.connect(changes);
    a.sessionContext.statusChanged.emit("busy");
    expect(model.current?.down).toBeNull();
    a.sessionContext.statusChanged.emit(status);
    expect(model.current?.down?.reason).toBe(reason);
    expect(changes).toHaveBeenCalledTimes(1);
    a.sessionContext.statusChanged.emit("idle"); // back up, but the library's connection is gone
    expect(model.current?.down?.reason).toBe(reason);
    a.send(payload({ seq: 1, ts: "2026-11-24T15:00:00.000Z" })); // the user ran connect() again
    expect(model.current?.down).toBeNull();
  });

  it("forgets the old kernel's state when the notebook changes kernels", () => {
    const { tracker, model } = setUp();
    const a = tracker.open("a.ipynb");
    a.send(payload());
    a.sessionContext.kernelChanged.emit({});
    expect(model.current?.payload).toBeNull();
    expect(model.current?.down?.reason).toBe(KERNEL_CHANGED);
  });

  it("drops a closed notebook", () => {
    const { tracker, model, source } = setUp();
    const a = tracker.open("a.ipynb");
    const sourceModel = source.modelFor(a);
    tracker.close(a);
    expect(model.current).toBeNull();
    expect(sourceModel?.isDisposed).toBe(true);
    expect(source.modelFor(a)).toBeUndefined();
    a.send(payload()); // disconnected: no error, no effect
  });
});

const SETTINGS: MonitorSettings = {
  path: "ibkr-monitor",
  kernelName: "tslab",
  broker: "ibkr-paper",
  host: "127.0.0.1",
  port: null,
  clientId: 3,
  maxPerSecond: 4,
  trading: false,
  allowLive: false,
};

describe("monitorBootstrapCode", () => {
  it("passes the settings as a JSON literal, client id 3 by default", () => {
    const code = monitorBootstrapCode(SETTINGS);
    expect(code).toContain('await import("ibkr-notebook")');
    expect(code).toContain(
      'monitor({"broker":"ibkr-paper","host":"127.0.0.1","clientId":3,"maxPerSecond":4})',
    );
    expect(monitorBootstrapCode({ ...SETTINGS, port: 4002 })).toContain('"port":4002');
  });

  it.each<[string, Partial<MonitorSettings>]>([
    ["a host that closes the string", { host: '127.0.0.1"}); process.exit(1); ({"' }],
    ["a host with a newline", { host: "localhost\nprocess.exit(1)" }],
    ["a fractional port", { port: 7497.5 }],
    ["a port out of range", { port: 70000 }],
    ["a negative client id", { clientId: -1 }],
    ["a client id that is code", { clientId: "3); process.exit(1" as unknown as number }],
    ["an unknown broker", { broker: "ibkr-demo" as "ibkr-paper" }],
    ["a refresh ceiling of 0", { maxPerSecond: 0 }],
    ["trading that is not a boolean", { trading: "true" as unknown as boolean }],
    ["allowLive that is code", { allowLive: "1); process.exit(1" as unknown as boolean }],
  ])("refuses %s", (_name, override) => {
    expect(() => monitorBootstrapCode({ ...SETTINGS, ...override })).toThrow(/jupyterlab-ibkr settings/);
  });

  it("accepts host names and IPv6 addresses", () => {
    for (const host of ["localhost", "tws.internal.example.com", "::1", "[::1]", "10.0.0.7"]) {
      expect(() => monitorBootstrapCode({ ...SETTINGS, host })).not.toThrow();
    }
  });
});

/** What the fake kernel answers to one execute: the reply's status and any stdout it prints. */
type Answer = { status: "ok" | "error"; ename?: string; evalue?: string; stdout?: string };

/** A session whose kernel records executed code and answers ok (or an error, or what `answer` says). */
function fakeSession(reply: "ok" | "error" = "ok", answer?: (code: string) => Answer) {
  const executed: string[] = [];
  const session = {
    iopubMessage: new Signal<unknown, KernelMessage.IIOPubMessage>({}),
    statusChanged: new Signal<unknown, Kernel.Status>({}),
    kernelChanged: new Signal<unknown, unknown>({}),
    kernel: {
      requestExecute: (content: { code: string }) => {
        executed.push(content.code);
        const result: Answer =
          answer?.(content.code) ??
          (reply === "ok"
            ? { status: "ok" }
            : { status: "error", ename: "Error", evalue: "Cannot find module 'ibkr-notebook'" });
        const future: { onIOPub?: (msg: KernelMessage.IIOPubMessage) => void; done: Promise<unknown> } = {
          done: Promise.resolve().then(() => {
            if (result.stdout !== undefined) future.onIOPub?.(iopub({}, "stream", result.stdout));
            const { stdout: _, ...content } = result;
            return { content };
          }),
        };
        return future;
      },
    },
    shutdown: jest.fn(() => Promise.resolve()),
  };
  return { session, executed };
}

function fakeManager(session: unknown, existing?: Session.IModel) {
  return {
    findByPath: jest.fn(() => Promise.resolve(existing)),
    connectTo: jest.fn(() => session),
    startNew: jest.fn(() => Promise.resolve(session)),
  } as unknown as SessionManagerLike & Record<"findByPath" | "connectTo" | "startNew", jest.Mock>;
}

describe("MonitorSource", () => {
  it("starts a tslab session at the path, bootstraps it and reads its feed", async () => {
    const { session, executed } = fakeSession();
    const sessions = fakeManager(session);
    const model = new IbkrModel("monitor");
    const monitor = new MonitorSource(sessions, model, SETTINGS);
    await monitor.start();
    expect(sessions.startNew).toHaveBeenCalledWith({
      path: "ibkr-monitor",
      type: "ibkr-monitor",
      name: "ibkr-monitor",
      kernel: { name: "tslab" },
    });
    expect(executed).toHaveLength(1);
    expect(monitor.status).toBe("running");
    session.iopubMessage.emit(feedMessage(payload({ source: { ...payload().source, clientId: 3 } })));
    expect(model.current?.payload?.source.clientId).toBe(3);
  });

  it("joins the session another tab started", async () => {
    const { session } = fakeSession();
    const existing = { id: "s1", path: "ibkr-monitor" } as Session.IModel;
    const sessions = fakeManager(session, existing);
    await new MonitorSource(sessions, new IbkrModel(), SETTINGS).start();
    expect(sessions.connectTo).toHaveBeenCalledWith({ model: existing });
    expect(sessions.startNew).not.toHaveBeenCalled();
  });

  it("re-bootstraps after a kernel restart, and shows the kernel down meanwhile", async () => {
    const { session, executed } = fakeSession();
    const model = new IbkrModel("monitor");
    const monitor = new MonitorSource(fakeManager(session), model, SETTINGS);
    await monitor.start();
    session.iopubMessage.emit(feedMessage(payload()));
    session.statusChanged.emit("restarting");
    expect(model.current?.down?.reason).toBe("the monitor kernel is restarting");
    session.statusChanged.emit("idle");
    await Promise.resolve();
    expect(executed).toHaveLength(2);
  });

  it("reports a bootstrap failure", async () => {
    const { session } = fakeSession("error");
    const model = new IbkrModel("monitor");
    const monitor = new MonitorSource(fakeManager(session), model, SETTINGS);
    await monitor.start();
    expect(monitor.status).toBe("failed");
    expect(monitor.failure).toContain("Cannot find module 'ibkr-notebook'");
    expect(model.current?.down?.reason).toContain("the monitor failed to start");
  });

  it("starts nothing with invalid settings", async () => {
    const { session } = fakeSession();
    const sessions = fakeManager(session);
    const monitor = new MonitorSource(sessions, new IbkrModel(), { ...SETTINGS, host: "a b" });
    await monitor.start();
    expect(monitor.status).toBe("failed");
    expect(sessions.findByPath).not.toHaveBeenCalled();
  });

  it("stops monitor() and shuts the session down", async () => {
    const { session, executed } = fakeSession();
    const monitor = new MonitorSource(fakeManager(session), new IbkrModel(), SETTINGS);
    await monitor.start();
    await monitor.stop();
    expect(executed[1]).toContain("__ibkrMonitor?.stop()");
    expect(session.shutdown).toHaveBeenCalled();
    expect(monitor.status).toBe("stopped");
  });
});

describe("monitor trading settings", () => {
  it("passes trading only when enabled, and allowLive only with it, for a live broker", () => {
    expect(monitorArguments(SETTINGS)).not.toHaveProperty("trading");
    expect(monitorArguments({ ...SETTINGS, allowLive: true, broker: "ibkr-live" })).not.toHaveProperty(
      "allowLive",
    );
    expect(monitorArguments({ ...SETTINGS, trading: true })).toMatchObject({ trading: true });
    expect(monitorArguments({ ...SETTINGS, trading: true, allowLive: true })).not.toHaveProperty("allowLive"); // paper
    expect(monitorArguments({ ...SETTINGS, trading: true, broker: "ibkr-live" })).not.toHaveProperty(
      "allowLive",
    );
    expect(
      monitorArguments({ ...SETTINGS, trading: true, allowLive: true, broker: "ibkr-live" }),
    ).toMatchObject({
      trading: true,
      allowLive: true,
    });
    expect(monitorBootstrapCode({ ...SETTINGS, trading: true })).toContain(
      'monitor({"broker":"ibkr-paper","host":"127.0.0.1","clientId":3,"maxPerSecond":4,"trading":true})',
    );
  });

  it("replaces a running monitor started with other options, and always on reconnect", () => {
    const args = JSON.stringify(monitorArguments(SETTINGS));
    const code = monitorBootstrapCode(SETTINGS);
    expect(code).toContain(`const config = ${JSON.stringify(args)};`);
    expect(code).toContain(`if (shared.${MONITOR_GLOBAL} && shared.__ibkrMonitorConfig !== config) {`);
    const restart = monitorBootstrapCode(SETTINGS, { restart: true });
    expect(restart).toContain(`if (shared.${MONITOR_GLOBAL}) {\n    shared.${MONITOR_GLOBAL}.stop();`);
    expect(restart).toContain(`shared.${MONITOR_GLOBAL} = await monitor(${args});`);
  });
});

/** The generated TypeScript, wrapped as tslab wraps a cell with await, as JavaScript; throws on a syntax error. */
function plainJs(code: string): string {
  const out = ts.transpileModule(`(async () => {\n${code}\n})()`, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    reportDiagnostics: true,
  });
  const problems = (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  if (problems.length) throw new Error(problems.join("; "));
  return out.outputText.replace(/^\(async \(\) => \{\n([\s\S]*)\n\}\)\(\);\s*$/, "$1");
}

describe("generated monitor code", () => {
  it("is valid TypeScript, for every kind", () => {
    for (const code of [
      monitorBootstrapCode(SETTINGS),
      monitorBootstrapCode({ ...SETTINGS, trading: true, allowLive: true, broker: "ibkr-live", port: 4001 }),
      monitorBootstrapCode(SETTINGS, { restart: true }),
      MONITOR_STOP_CODE,
      monitorCancelCode(2147483647),
    ]) {
      expect(() => plainJs(code)).not.toThrow();
    }
  });
});

describe("monitorCancelCode", () => {
  it("calls cancelOrder on the handle the bootstrap stores, with the id as a number literal", () => {
    const code = monitorCancelCode(123);
    expect(code).toContain(`const running = shared.${MONITOR_GLOBAL};`);
    expect(code).toContain("await running.ib.cancelOrder(123);");
    expect(monitorBootstrapCode(SETTINGS)).toContain(`shared.${MONITOR_GLOBAL} = await monitor(`);
  });

  it.each<unknown>([
    0,
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    "123",
    "1); process.exit(1",
    null,
    {
      valueOf: () => 1,
    },
  ])("refuses %p as an order id", (id) => {
    expect(() => monitorCancelCode(id as number)).toThrow(/not an order id/);
  });

  it("runs: cancels through the stored monitor and prints one marked result line", async () => {
    const cancelOrder = jest.fn(async (id: number) => ({ status: "Cancelled", id }));
    const printed: string[] = [];
    const code = plainJs(monitorCancelCode(42));
    const globals = { __ibkrMonitor: { ib: { cancelOrder } } };
    const run = new Function("globalThis", "console", `return (async () => { ${code} })();`) as (
      g: unknown,
      c: unknown,
    ) => Promise<void>;
    await run(globals, { log: (line: string) => printed.push(line) });
    expect(cancelOrder).toHaveBeenCalledWith(42);
    expect(describeCancelResult(42, printed.join("\n"))).toBe("Order 42: cancel sent; status Cancelled.");
  });
});

describe("describeCancelResult", () => {
  it("reads the marked line among other output", () => {
    const out = 'noise\n__ibkr_result__{"ok":true,"status":"PendingCancel"}\n';
    expect(describeCancelResult(7, out)).toBe("Order 7: cancel sent; status PendingCancel.");
  });

  it("takes TWS's 202 for the confirmation it is, and throws other errors with their text", () => {
    expect(
      describeCancelResult(7, '__ibkr_result__{"ok":false,"code":202,"error":"[202] Order Canceled"}'),
    ).toBe("Order 7: cancelled ([202] Order Canceled).");
    expect(() =>
      describeCancelResult(7, '__ibkr_result__{"ok":false,"code":10147,"error":"<b>not found</b>"}'),
    ).toThrow("order 7 was not cancelled: <b>not found</b>");
    expect(describeCancelResult(7, "")).toBe("Order 7: the monitor gave no answer");
  });
});

describe("MonitorSource actions", () => {
  async function running(settings: MonitorSettings, answer?: (code: string) => Answer) {
    const { session, executed } = fakeSession("ok", answer);
    const monitor = new MonitorSource(fakeManager(session), new IbkrModel("monitor"), settings);
    await monitor.start();
    expect(monitor.status).toBe("running");
    return { monitor, executed };
  }

  it("cancels in the monitor kernel only with trading on, sending exactly the cancel code", async () => {
    const answer = (code: string): Answer =>
      code.includes("cancelOrder(")
        ? { status: "ok", stdout: '__ibkr_result__{"ok":true,"status":"PendingCancel"}\n' }
        : { status: "ok" };
    const off = await running(SETTINGS, answer);
    await expect(off.monitor.cancelOrder(11)).rejects.toThrow(/trading from the panel is off/);
    expect(off.executed).toHaveLength(1); // the bootstrap only

    const on = await running({ ...SETTINGS, trading: true }, answer);
    expect(on.monitor.trading).toBe(true);
    await expect(on.monitor.cancelOrder(11)).resolves.toBe("Order 11: cancel sent; status PendingCancel.");
    expect(on.executed[1]).toBe(monitorCancelCode(11));
    await expect(on.monitor.cancelOrder(-3)).rejects.toThrow(/not an order id/);
    await expect(on.monitor.cancelOrder("11); process.exit(1" as unknown as number)).rejects.toThrow(
      /not an order id/,
    );
    expect(on.executed).toHaveLength(2);
  });

  it("reports a refused cancel and a failed execute as errors", async () => {
    let stdout = '__ibkr_result__{"ok":false,"error":"[201] Order rejected"}';
    const { monitor } = await running({ ...SETTINGS, trading: true }, (code) =>
      code.includes("cancelOrder(") ? { status: "ok", stdout } : { status: "ok" },
    );
    await expect(monitor.cancelOrder(5)).rejects.toThrow("order 5 was not cancelled: [201] Order rejected");
    stdout = "";
    const failing = await running({ ...SETTINGS, trading: true }, (code) =>
      code.includes("cancelOrder(") ? { status: "error", ename: "TSError", evalue: "bad" } : { status: "ok" },
    );
    await expect(failing.monitor.cancelOrder(5)).rejects.toThrow("the monitor kernel failed: TSError: bad");
  });

  it("refuses to cancel when the monitor is not running", async () => {
    const { session, executed } = fakeSession();
    const monitor = new MonitorSource(fakeManager(session), new IbkrModel(), { ...SETTINGS, trading: true });
    await expect(monitor.cancelOrder(5)).rejects.toThrow(/not running/);
    expect(executed).toHaveLength(0);
  });

  it("reconnects by replacing monitor() in its kernel, or starts it when it is not running", async () => {
    const { session, executed } = fakeSession();
    const sessions = fakeManager(session);
    const monitor = new MonitorSource(sessions, new IbkrModel(), SETTINGS);
    await monitor.reconnect();
    expect(sessions.startNew).toHaveBeenCalledTimes(1);
    expect(executed).toEqual([monitorBootstrapCode(SETTINGS)]);
    await monitor.reconnect();
    expect(executed[1]).toBe(monitorBootstrapCode(SETTINGS, { restart: true }));
    expect(monitor.status).toBe("running");
  });
});
