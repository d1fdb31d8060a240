import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_SETTINGS, readSettings } from "../settings";

const schema = JSON.parse(readFileSync(join(__dirname, "../../schema/plugin.json"), "utf8")) as {
  properties: Record<string, { default: unknown; items?: { enum: string[] } }>;
};

describe("settings", () => {
  it("uses the defaults for an empty composite", () => {
    expect(readSettings({})).toEqual(DEFAULT_SETTINGS);
    expect(readSettings(null).monitor.clientId).toBe(3);
  });

  it("has the same defaults as schema/plugin.json", () => {
    const defaults = Object.fromEntries(
      Object.entries(schema.properties).map(([key, value]) => [key, value.default]),
    );
    expect(readSettings(defaults)).toEqual(DEFAULT_SETTINGS);
    expect(schema.properties.positionsColumns.items?.enum).toEqual(DEFAULT_SETTINGS.positionsColumns);
    expect(schema.properties.ordersColumns.items?.enum).toEqual(DEFAULT_SETTINGS.ordersColumns);
  });

  it("reads each value, falling back value by value", () => {
    const settings = readSettings({
      defaultSource: "monitor",
      monitorAutoStart: true,
      monitorPath: "trading/ibkr-monitor",
      broker: "ibkr-live",
      host: "10.0.0.7",
      port: 4001,
      clientId: "seven",
      maxUpdatesPerSecond: -1,
      ordersColumns: ["orderId", "status"],
    });
    expect(settings.defaultSource).toBe("monitor");
    expect(settings.monitorAutoStart).toBe(true);
    expect(settings.monitor).toEqual({
      path: "trading/ibkr-monitor",
      kernelName: "tslab",
      broker: "ibkr-live",
      host: "10.0.0.7",
      port: 4001,
      clientId: 3,
      maxPerSecond: 4,
      trading: false,
      allowLive: false,
    });
    expect(settings.ordersColumns).toEqual(["orderId", "status"]);
  });

  it("keeps trading from the monitor off unless both switches say so", () => {
    expect(DEFAULT_SETTINGS.monitor.trading).toBe(false);
    expect(DEFAULT_SETTINGS.monitor.allowLive).toBe(false);
    expect(readSettings({ monitorTrading: "yes", monitorAllowLive: 1 }).monitor).toMatchObject({
      trading: false,
      allowLive: false,
    });
    expect(readSettings({ monitorTrading: true }).monitor).toMatchObject({ trading: true, allowLive: false });
    expect(readSettings({ monitorTrading: true, monitorAllowLive: true }).monitor).toMatchObject({
      trading: true,
      allowLive: true,
    });
  });
});
