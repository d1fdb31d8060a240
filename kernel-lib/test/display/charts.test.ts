/** Vega-Lite specs for allocation, P&L and price bars, and their SVG rendered in Node by vega. */
import { describe, expect, it } from "vitest";
import {
  allocationChart,
  chartBundle,
  pnlChart,
  portfolioChart,
  priceChart,
  renderSvg,
  VEGA_LITE_MIME,
} from "../../src/display/charts";
import type { Bar } from "../../src/ib";
import type { PortfolioItem } from "../../src/state/types";

const item = (
  symbol: string,
  secType: string,
  localSymbol: string,
  marketValue: number,
  pnl: number,
): PortfolioItem => ({
  account: "DU1",
  symbol,
  secType,
  localSymbol,
  currency: "USD",
  quantity: 1,
  marketPrice: marketValue,
  marketValue,
  avgCost: 0,
  unrealizedPnl: pnl,
  realizedPnl: 0,
  contract: {},
});

const PORTFOLIO = [
  item("AAPL", "STK", "AAPL", 69450, 13224),
  item("KO", "STK", "KO", -16025, 505),
  item("AAPL", "OPT", "AAPL  270115C00250000", 11200, -1780),
  item("ES", "FUT", "ESZ6", 0, 0),
];

const bars = (n: number, start: (i: number) => Date): Bar[] =>
  Array.from({ length: n }, (_, i) => ({
    time: start(i),
    open: 100,
    high: 102,
    low: 99,
    close: i % 2 ? 101 : 99.5,
    volume: 1000,
    wap: 100,
    count: 10,
  }));

type Datum = Record<string, unknown>;
const valuesOf = (spec: Record<string, unknown>) => (spec.data as { values: Datum[] }).values;

describe("allocation and P&L", () => {
  it("has one bar per held position, largest first, stocks by symbol and others by local symbol", () => {
    const spec = allocationChart(PORTFOLIO);
    expect(spec.$schema).toBe("https://vega.github.io/schema/vega-lite/v5.json");
    expect(valuesOf(spec).map((v) => v.position)).toEqual(["AAPL", "AAPL 270115C00250000", "KO"]);
    expect(valuesOf(spec).map((v) => v.side)).toEqual(["long", "long", "short"]);
    // Weights are shares of the gross exposure.
    expect(valuesOf(spec).reduce((sum, v) => sum + Math.abs(v.weight as number), 0)).toBeCloseTo(1);
  });

  it("orders P&L bars by P&L and colours them by sign", () => {
    const spec = pnlChart(PORTFOLIO);
    expect(valuesOf(spec).map((v) => v.unrealizedPnl)).toEqual([13224, 505, -1780]);
    expect(JSON.stringify(spec.encoding)).toContain("datum.unrealizedPnl < 0");
  });

  it("puts both side by side with the same row order", () => {
    const spec = portfolioChart(PORTFOLIO);
    const [left, right] = spec.hconcat as Array<{ encoding: { y: { sort: string[] } } }>;
    expect(left?.encoding.y.sort).toEqual(right?.encoding.y.sort);
  });

  it("keeps two contracts with the same label apart", () => {
    const spec = allocationChart([item("AAPL", "STK", "AAPL", 10, 0), item("AAPL", "STK", "AAPL", 5, 0)]);
    expect(valuesOf(spec).map((v) => v.position)).toEqual(["AAPL", "AAPL (2)"]);
  });
});

describe("price bars", () => {
  it("draws candlesticks over volume; daily bars on a UTC time scale", () => {
    const spec = priceChart(
      bars(20, (i) => new Date(Date.UTC(2026, 9, 1 + i))),
      { title: "AAPL" },
    );
    const [price, volume] = spec.vconcat as Array<Record<string, unknown>>;
    expect(JSON.stringify(price?.layer)).toContain('"y2":{"field":"high"}');
    expect(JSON.stringify(volume?.encoding)).toContain('"field":"volume"');
    expect(JSON.stringify(spec)).toContain('"scale":{"type":"utc"}');
    expect(valuesOf(spec)[0]?.time).toBe("2026-10-01T00:00:00.000Z");
  });

  it("draws a close line for long series and intraday bars in local time", () => {
    const spec = priceChart(bars(500, (i) => new Date(Date.UTC(2026, 9, 1, 13, 30) + i * 60_000)));
    const [price] = spec.vconcat as Array<Record<string, unknown>>;
    expect(price?.mark).toMatchObject({ type: "line" });
    expect(JSON.stringify(spec)).toContain('"scale":{"type":"time"}');
  });

  it("leaves out volume where IB has none (forex midpoints send -1)", () => {
    const spec = priceChart(
      bars(5, (i) => new Date(Date.UTC(2026, 9, 1 + i))).map((b) => ({ ...b, volume: -1 })),
    );
    expect(spec.vconcat).toBeUndefined();
    expect(spec.layer).toBeDefined();
  });
});

describe("SVG", () => {
  it("renders each chart in Node, no canvas needed", async () => {
    for (const spec of [
      portfolioChart(PORTFOLIO),
      priceChart(bars(30, (i) => new Date(Date.UTC(2026, 9, 1 + i)))),
    ]) {
      const svg = await renderSvg(spec);
      expect(svg).toMatch(/^<svg[\s\S]*<\/svg>$/);
    }
  });

  it("bundles Vega-Lite, SVG and a line of text", async () => {
    const bundle = await chartBundle(allocationChart(PORTFOLIO), "[chart]");
    expect(Object.keys(bundle)).toEqual([VEGA_LITE_MIME, "image/svg+xml", "text/plain"]);
  });

  it("gives no SVG, rather than an error, for a spec vega refuses", async () => {
    expect(await renderSvg({ mark: "no-such-mark" })).toBeUndefined();
  });
});
