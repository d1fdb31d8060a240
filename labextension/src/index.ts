/**
 * jupyterlab-ibkr: the one plugin. It wires JupyterLab's tokens to the model (model.ts), the sources
 * (sources.ts) and the widgets (widgets.ts); everything else lives in those modules.
 */
import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from "@jupyterlab/application";
import { Dialog, ICommandPalette, showDialog } from "@jupyterlab/apputils";
import { INotebookTracker } from "@jupyterlab/notebook";
import { ISettingRegistry } from "@jupyterlab/settingregistry";
import { IStatusBar } from "@jupyterlab/statusbar";
import { listIcon, tableRowsIcon } from "@jupyterlab/ui-components";
import { Widget } from "@lumino/widgets";
import { IbkrModel } from "./model";
import { readSettings } from "./settings";
import { MonitorSource, NotebookSource } from "./sources";
import {
  type CancelDetails,
  ConnectionBadge,
  cancelDialogBody,
  OrdersPanel,
  PositionsPanel,
} from "./widgets";

const PLUGIN_ID = "jupyterlab-ibkr:plugin";

const COMMANDS = {
  showPositions: "ibkr:show-positions",
  showOrders: "ibkr:show-orders",
  startMonitor: "ibkr:start-monitor",
  stopMonitor: "ibkr:stop-monitor",
  reconnectMonitor: "ibkr:reconnect-monitor",
} as const;

/**
 * The confirmation before a cancel: JupyterLab's dialog, the body built from text nodes only, and
 * "Keep order" as the default button, so a stray Enter changes nothing.
 */
async function confirmCancel(details: CancelDetails): Promise<boolean> {
  const result = await showDialog({
    title: details.title,
    body: new Widget({ node: cancelDialogBody(details) }),
    buttons: [Dialog.cancelButton({ label: "Keep order" }), Dialog.warnButton({ label: "Cancel order" })],
    defaultButton: 0,
  });
  return result.button.accept;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    "Interactive Brokers positions, orders and connection status, fed by the ibkr-notebook library.",
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ISettingRegistry, ILayoutRestorer, IStatusBar, ICommandPalette],
  activate: async (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    registry: ISettingRegistry | null,
    restorer: ILayoutRestorer | null,
    statusBar: IStatusBar | null,
    palette: ICommandPalette | null,
  ): Promise<void> => {
    const loaded = registry ? await registry.load(PLUGIN_ID).catch(() => null) : null;
    const settings = readSettings(loaded?.composite as Record<string, unknown> | undefined);

    const model = new IbkrModel(settings.defaultSource);
    new NotebookSource(tracker, model);
    const monitor = settings.monitorEnabled
      ? new MonitorSource(app.serviceManager.sessions, model, settings.monitor)
      : null;
    const positions = new PositionsPanel({ model, monitor, columns: settings.positionsColumns });
    positions.id = "jupyterlab-ibkr-positions";
    positions.title.icon = tableRowsIcon;
    const orders = new OrdersPanel({ model, monitor, columns: settings.ordersColumns, confirmCancel });
    orders.id = "jupyterlab-ibkr-orders";
    orders.title.icon = listIcon;
    app.shell.add(positions, "right", { rank: 600 });
    app.shell.add(orders, "right", { rank: 610 });
    restorer?.add(positions, positions.id);
    restorer?.add(orders, orders.id);
    // Monitor settings apply at its next start (trading, for the Cancel buttons, at once); columns need
    // a reload (they are fixed per panel).
    loaded?.changed.connect(() => {
      monitor?.configure(readSettings(loaded.composite as Record<string, unknown>).monitor);
      orders.update();
    });

    if (statusBar) {
      const badge = new ConnectionBadge(model);
      badge.node.addEventListener("click", () => app.shell.activateById(positions.id));
      statusBar.registerStatusItem("jupyterlab-ibkr:badge", { item: badge, align: "left", rank: 5 });
    }

    app.commands.addCommand(COMMANDS.showPositions, {
      label: "Interactive Brokers: Show Positions",
      execute: () => app.shell.activateById(positions.id),
    });
    app.commands.addCommand(COMMANDS.showOrders, {
      label: "Interactive Brokers: Show Orders",
      execute: () => app.shell.activateById(orders.id),
    });
    if (monitor) {
      app.commands.addCommand(COMMANDS.startMonitor, {
        label: "Interactive Brokers: Start Monitor",
        isEnabled: () => monitor.status === "stopped" || monitor.status === "failed",
        execute: () => {
          model.selected = "monitor";
          return monitor.start();
        },
      });
      app.commands.addCommand(COMMANDS.stopMonitor, {
        label: "Interactive Brokers: Stop Monitor",
        isEnabled: () => monitor.status === "running",
        execute: () => monitor.stop(),
      });
      app.commands.addCommand(COMMANDS.reconnectMonitor, {
        label: "Interactive Brokers: Reconnect Monitor",
        isEnabled: () => monitor.status !== "starting",
        execute: () => {
          model.selected = "monitor";
          return positions.reconnect();
        },
      });
    }
    for (const command of Object.values(COMMANDS)) {
      if (app.commands.hasCommand(command)) palette?.addItem({ command, category: "Interactive Brokers" });
    }

    if (monitor && settings.monitorAutoStart) {
      app.restored
        .then(() => monitor.start())
        .catch((error) => console.error("jupyterlab-ibkr: monitor", error));
    }
  },
};

export default plugin;
