/**
 * Charts as Vega-Lite v5 specs (JupyterLab renders `application/vnd.vegalite.v5+json` with no
 * extension), plus the same chart as SVG rendered in Node by vega itself, for GitHub and nbviewer
 * where Vega-Lite is not rendered (DESIGN "Display in a notebook").
 *
 * vega and vega-lite are ESM-only, and `require("vega")` fails on Node 20 (top-level await), so they
 * are loaded lazily with `import()`, which `module: node16` keeps as a real dynamic import in this
 * CommonJS build. Their types stay inside this file: specs are plain JSON objects.
 */
import type { Bar } from "../ib";
import type { PortfolioItem } from "../state/types";
import { toNumber } from "./format";
import type { MimeBundle } from "./tslab";

/** A Vega-Lite spec: plain JSON. */
export type VegaLiteSpec = Record<string, unknown>;

export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";
const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

const LONG = "#4c78a8";
const SHORT = "#f58518";
const GAIN = "#1a7f37";
const LOSS = "#cf222e";

/** How a position is named on a chart: the symbol for stocks, IB's local symbol otherwise. */
function positionLabel(p: { symbol: string; localSymbol: string; secType: string }): string {
  return p.secType === "STK" || !p.localSymbol ? p.symbol : p.localSymbol.replace(/\s+/g, " ");
}

/** Labels made unique, so two contracts never share a bar. */
function uniqueLabels(labels: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((label) => {
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    return n === 1 ? label : `${label} (${n})`;
  });
}

function currencyOf(items: readonly { currency: string }[]): string | undefined {
  const currencies = new Set(items.map((i) => i.currency));
  return currencies.size === 1 ? [...currencies][0] : undefined;
}

interface PositionDatum {
  position: string;
  marketValue: number;
  unrealizedPnl: number;
  weight: number;
  side: "long" | "short";
  currency: string;
}

function positionData(items: readonly PortfolioItem[]): PositionDatum[] {
  const held = items.filter((p) => (toNumber(p.marketValue) ?? 0) !== 0);
  const gross = held.reduce((sum, p) => sum + Math.abs(p.marketValue), 0) || 1;
  const labels = uniqueLabels(held.map(positionLabel));
  return held
    .map((p, i) => ({
      position: labels[i] as string,
      marketValue: p.marketValue,
      unrealizedPnl: toNumber(p.unrealizedPnl) ?? 0,
      weight: p.marketValue / gross,
      side: p.marketValue < 0 ? ("short" as const) : ("long" as const),
      currency: p.currency,
    }))
    .sort((a, b) => b.marketValue - a.marketValue);
}

const positionTooltip = [
  { field: "position", title: "Position" },
  { field: "marketValue", title: "Market value", format: ",.2f" },
  { field: "weight", title: "Weight (of gross)", format: ".1%" },
  { field: "unrealizedPnl", title: "Unrealized P&L", format: "+,.2f" },
  { field: "currency", title: "Currency" },
];

function allocationLayer(order: readonly string[], currency: string | undefined): VegaLiteSpec {
  return {
    title: "Allocation by position",
    width: 300,
    height: { step: 18 },
    mark: { type: "bar", cornerRadiusEnd: 2 },
    encoding: {
      y: { field: "position", type: "nominal", sort: order, title: null },
      x: {
        field: "marketValue",
        type: "quantitative",
        title: currency ? `Market value (${currency})` : "Market value",
        axis: { format: "~s" },
      },
      color: {
        field: "side",
        type: "nominal",
        scale: { domain: ["long", "short"], range: [LONG, SHORT] },
        legend: { title: null, orient: "bottom" },
      },
      tooltip: positionTooltip,
    },
  };
}

function pnlLayer(order: readonly string[], currency: string | undefined, showLabels: boolean): VegaLiteSpec {
  return {
    title: "Unrealized P&L by position",
    width: 300,
    height: { step: 18 },
    mark: { type: "bar", cornerRadiusEnd: 2 },
    encoding: {
      y: {
        field: "position",
        type: "nominal",
        sort: order,
        title: null,
        ...(showLabels ? {} : { axis: { labels: false, ticks: false } }),
      },
      x: {
        field: "unrealizedPnl",
        type: "quantitative",
        title: currency ? `Unrealized P&L (${currency})` : "Unrealized P&L",
        axis: { format: "~s" },
      },
      color: { condition: { test: "datum.unrealizedPnl < 0", value: LOSS }, value: GAIN },
      tooltip: positionTooltip,
    },
  };
}

/** Market value by position, largest long first, shorts in another colour. */
export function allocationChart(items: readonly PortfolioItem[]): VegaLiteSpec {
  const values = positionData(items);
  return {
    $schema: SCHEMA,
    data: { values },
    ...allocationLayer(
      values.map((v) => v.position),
      currencyOf(items),
    ),
  };
}

/** Unrealized P&L by position, gains green and losses red. */
export function pnlChart(items: readonly PortfolioItem[]): VegaLiteSpec {
  const values = [...positionData(items)].sort((a, b) => b.unrealizedPnl - a.unrealizedPnl);
  return {
    $schema: SCHEMA,
    data: { values },
    ...pnlLayer(
      values.map((v) => v.position),
      currencyOf(items),
      true,
    ),
  };
}

/** Allocation and P&L side by side, one row per position in the same order, so they read across. */
export function portfolioChart(items: readonly PortfolioItem[]): VegaLiteSpec {
  const values = positionData(items);
  const order = values.map((v) => v.position);
  const currency = currencyOf(items);
  return {
    $schema: SCHEMA,
    data: { values },
    hconcat: [allocationLayer(order, currency), pnlLayer(order, currency, false)],
    spacing: 16,
  };
}

export interface PriceChartOptions {
  title?: string;
  /** Default: candlesticks up to 150 bars, a close line beyond. */
  style?: "candlestick" | "line";
}

const PLOT_WIDTH = 600;

function isUtcMidnight(d: Date): boolean {
  return d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0;
}

/** Price bars (candlesticks or a close line) over volume, on one time axis. */
export function priceChart(bars: readonly Bar[], options: PriceChartOptions = {}): VegaLiteSpec {
  const style = options.style ?? (bars.length <= 150 ? "candlestick" : "line");
  // Daily bars are calendar days stored as UTC midnight: read them in UTC, or they shift a day west.
  const daily = bars.length > 0 && bars.every((b) => isUtcMidnight(b.time));
  const values = bars.map((b) => ({
    time: b.time.toISOString(),
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume > 0 ? b.volume : null,
  }));
  const hasVolume = values.some((v) => v.volume !== null);
  const barWidth = Math.max(1, Math.min(10, Math.floor((PLOT_WIDTH / Math.max(bars.length, 1)) * 0.7)));
  const x = {
    field: "time",
    type: "temporal",
    title: null,
    scale: { type: daily ? "utc" : "time" },
  };
  const direction = { condition: { test: "datum.close >= datum.open", value: GAIN }, value: LOSS };
  const tooltip = [
    { field: "time", type: "temporal", title: "Time", ...(daily ? { timeUnit: "utcyearmonthdate" } : {}) },
    { field: "open", type: "quantitative", format: ",.4~f" },
    { field: "high", type: "quantitative", format: ",.4~f" },
    { field: "low", type: "quantitative", format: ",.4~f" },
    { field: "close", type: "quantitative", format: ",.4~f" },
    { field: "volume", type: "quantitative", format: ",d" },
  ];
  const priceX = hasVolume ? { ...x, axis: { labels: false, ticks: false, title: null } } : x;
  const price: VegaLiteSpec =
    style === "candlestick"
      ? {
          width: PLOT_WIDTH,
          height: 220,
          encoding: {
            x: priceX,
            y: { type: "quantitative", scale: { zero: false }, title: "Price" },
            color: direction,
            tooltip,
          },
          layer: [
            { mark: "rule", encoding: { y: { field: "low" }, y2: { field: "high" } } },
            {
              mark: { type: "bar", width: barWidth },
              encoding: { y: { field: "open" }, y2: { field: "close" } },
            },
          ],
        }
      : {
          width: PLOT_WIDTH,
          height: 220,
          mark: { type: "line", color: LONG, strokeWidth: 1.5 },
          encoding: {
            x: priceX,
            y: { field: "close", type: "quantitative", scale: { zero: false }, title: "Close" },
            tooltip,
          },
        };
  const volume: VegaLiteSpec = {
    width: PLOT_WIDTH,
    height: 60,
    mark: { type: "bar", width: barWidth, opacity: 0.7 },
    encoding: {
      x,
      y: { field: "volume", type: "quantitative", title: "Volume", axis: { format: "~s", tickCount: 3 } },
      color: direction,
      tooltip,
    },
  };
  const title = options.title ? { title: { text: options.title, anchor: "start" } } : {};
  return {
    $schema: SCHEMA,
    ...title,
    data: { values },
    ...(hasVolume ? { vconcat: [price, volume], spacing: 4, resolve: { scale: { x: "shared" } } } : price),
  };
}

// ── SVG in Node ─────────────────────────────────────────────────────────────────────────────────

// Type-only: this CommonJS file may name an ES module's types when it says it loads it as one.
type Vega = typeof import("vega", { with: { "resolution-mode": "import" }});
type VegaLite = typeof import("vega-lite", { with: { "resolution-mode": "import" }});

let chartModules: Promise<{ vega: Vega; vegaLite: VegaLite } | undefined> | undefined;

/** vega and vega-lite, imported once; undefined if they are not installed. */
function loadChartModules(): Promise<{ vega: Vega; vegaLite: VegaLite } | undefined> {
  chartModules ??= Promise.all([import("vega"), import("vega-lite")]).then(
    ([vega, vegaLite]) => ({ vega, vegaLite }),
    () => undefined,
  );
  return chartModules;
}

/** The chart as an SVG document, rendered headless (no canvas); undefined if vega is unavailable. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string | undefined> {
  const modules = await loadChartModules();
  if (!modules) return undefined;
  const { vega, vegaLite } = modules;
  // Warnings go nowhere: in a kernel, console output would land in whichever cell ran last.
  const quiet = vega.logger(vega.None);
  try {
    const compiled = vegaLite.compile(spec as never, { logger: quiet }).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: "none", logger: quiet });
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  } catch {
    return undefined;
  }
}

/** A chart's MIME bundle: Vega-Lite for JupyterLab, SVG for static viewers, a line of text. */
export async function chartBundle(spec: VegaLiteSpec, text: string): Promise<MimeBundle> {
  const svg = await renderSvg(spec);
  return {
    [VEGA_LITE_MIME]: spec,
    ...(svg === undefined ? {} : { "image/svg+xml": svg }),
    "text/plain": text,
  };
}
