/**
 * monitor(): what the JupyterLab extension's headless monitor kernel runs (DESIGN decision 3). Its
 * own client id (default 3), every account's positions, portfolio and P&L, every client's open
 * orders (polled: TWS pushes order updates only to the client that placed them), and the feed.
 */

import type { ConnectOptions } from "../connection/options";
import { isTslab, publishHidden } from "../display/tslab";
import { connectHeadless, type IB } from "../ib";
import { FEED_MIME_TYPE, type FeedPayload } from "./payload";
import { StateFeed } from "./state-feed";

export interface MonitorOptions extends ConnectOptions {
  /** How often to refresh every client's open orders (reqAllOpenOrders). Default 2000 ms. */
  ordersRefreshMs?: number;
  /**
   * How many positions (largest cost basis first) get a daily P&L subscription for the panels'
   * Daily P&L column. Default 50; 0 for none. Each is a request, paced at 40 a second.
   */
  dailyPnlPositions?: number;
  /** Snapshots per second at most. Default: `feedMaxPerSecond`, itself 4 by default. */
  maxPerSecond?: number;
  /** Where snapshots go; default: JupyterLab's hidden display channel when running in tslab. */
  publish?: (payload: FeedPayload) => void;
}

export interface Monitor {
  ib: IB;
  feed: StateFeed;
  /** Stops polling and the feed, and closes the connection. */
  stop(): void;
}

const MONITOR_OPTIONS = new Set(["ordersRefreshMs", "dailyPnlPositions", "maxPerSecond", "publish"]);
const DAILY_PNL_POSITIONS = 50;

export async function monitor(options: MonitorOptions = {}): Promise<Monitor> {
  const connectOptions: ConnectOptions = {};
  for (const [key, value] of Object.entries(options)) {
    if (!MONITOR_OPTIONS.has(key)) (connectOptions as Record<string, unknown>)[key] = value;
  }
  const publish =
    options.publish ??
    (isTslab() ? (payload: FeedPayload) => publishHidden(FEED_MIME_TYPE, payload) : undefined);
  if (!publish) {
    throw new Error("monitor() runs in a tslab kernel; elsewhere pass { publish } to receive the snapshots");
  }
  const ib = await connectHeadless({ clientId: 3, ...connectOptions });
  const maxPerSecond = options.maxPerSecond ?? ib.options.feedMaxPerSecond;
  const feed = new StateFeed(ib, publish, { maxPerSecond }).start();
  let stopped = false;

  // Best effort: a refresh that fails (reconnecting, pacing) is retried on the next round; the feed
  // reports the connection state meanwhile.
  const quietly = (p: Promise<unknown>) => p.catch(() => undefined);
  const dailyPnlPositions = options.dailyPnlPositions ?? DAILY_PNL_POSITIONS;
  const subscribePositionPnl = () =>
    dailyPnlPositions > 0 ? quietly(ib.positionPnl({ max: dailyPnlPositions })) : Promise.resolve();
  const refresh = async () => {
    await quietly(ib.openOrders());
    if (ib.accounts.length === 1) await quietly(ib.portfolio());
    for (const account of ib.accounts) await quietly(ib.pnl({ account }));
    await subscribePositionPnl();
  };
  await refresh();
  // A position opened later gets its daily P&L too (when among the largest): one pass per second at most.
  let positionsChanged: NodeJS.Timeout | undefined;
  ib.on("position", () => {
    if (stopped || positionsChanged) return;
    positionsChanged = setTimeout(() => {
      positionsChanged = undefined;
      if (!stopped) void subscribePositionPnl();
    }, 1000);
    positionsChanged.unref();
  });
  const timer = setInterval(() => {
    if (!stopped && ib.state.state === "connected") void ib.openOrders().catch(() => undefined);
  }, options.ordersRefreshMs ?? 2000);
  timer.unref();
  ib.on("state", (status) => {
    if (status.state === "connected" && status.reason === "reconnected") void refresh();
  });

  return {
    ib,
    feed,
    stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(positionsChanged);
      feed.stop();
      ib.close("monitor stopped");
    },
  };
}
