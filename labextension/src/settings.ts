/**
 * The extension's settings (schema/plugin.json is their schema and defaults; JupyterLab validates
 * against it). Reading falls back to the defaults value by value, so a hand-edited settings file with
 * one bad value does not lose the others.
 */
import type { SourceKind } from "./model";
import type { MonitorSettings } from "./sources";
import { ORDER_COLUMNS, POSITION_COLUMNS } from "./table";

export interface IbkrSettings {
  defaultSource: SourceKind;
  monitorEnabled: boolean;
  monitorAutoStart: boolean;
  monitor: MonitorSettings;
  positionsColumns: string[];
  ordersColumns: string[];
}

export const DEFAULT_SETTINGS: IbkrSettings = {
  defaultSource: "notebook",
  monitorEnabled: true,
  monitorAutoStart: false,
  monitor: {
    path: "ibkr-monitor",
    kernelName: "tslab",
    broker: "ibkr-paper",
    host: "127.0.0.1",
    port: null,
    clientId: 3,
    maxPerSecond: 4,
    trading: false,
    allowLive: false,
  },
  positionsColumns: POSITION_COLUMNS.map((c) => c.id),
  ordersColumns: ORDER_COLUMNS.map((c) => c.id),
};

function pick<T>(value: unknown, accept: (v: unknown) => boolean, fallback: T): T {
  return accept(value) ? (value as T) : fallback;
}

const isString = (v: unknown) => typeof v === "string" && v.length > 0;
const isBoolean = (v: unknown) => typeof v === "boolean";
const isStringList = (v: unknown) => Array.isArray(v) && v.every((item) => typeof item === "string");

/** Settings from the registry's composite (or anything else): known values, else the defaults. */
export function readSettings(composite: Record<string, unknown> | null | undefined): IbkrSettings {
  const s = composite ?? {};
  const d = DEFAULT_SETTINGS;
  return {
    defaultSource: pick(s.defaultSource, (v) => v === "notebook" || v === "monitor", d.defaultSource),
    monitorEnabled: pick(s.monitorEnabled, isBoolean, d.monitorEnabled),
    monitorAutoStart: pick(s.monitorAutoStart, isBoolean, d.monitorAutoStart),
    monitor: {
      path: pick(s.monitorPath, isString, d.monitor.path),
      kernelName: pick(s.kernelName, isString, d.monitor.kernelName),
      broker: pick(s.broker, (v) => v === "ibkr-paper" || v === "ibkr-live", d.monitor.broker),
      host: pick(s.host, isString, d.monitor.host),
      port: pick(s.port, (v) => v === null || Number.isInteger(v), d.monitor.port),
      clientId: pick(s.clientId, Number.isInteger, d.monitor.clientId),
      maxPerSecond: pick(
        s.maxUpdatesPerSecond,
        (v) => typeof v === "number" && v > 0,
        d.monitor.maxPerSecond,
      ),
      trading: pick(s.monitorTrading, isBoolean, d.monitor.trading),
      allowLive: pick(s.monitorAllowLive, isBoolean, d.monitor.allowLive),
    },
    positionsColumns: pick(s.positionsColumns, isStringList, d.positionsColumns),
    ordersColumns: pick(s.ordersColumns, isStringList, d.ordersColumns),
  };
}
