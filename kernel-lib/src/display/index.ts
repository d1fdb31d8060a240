/**
 * Rich cell output for notebooks: tables and cards that print as HTML in tslab and as aligned text
 * elsewhere, Vega-Lite charts with an SVG copy, live outputs, and the tslab adapter underneath.
 */
export {
  allocationChart,
  chartBundle,
  type PriceChartOptions,
  pnlChart,
  portfolioChart,
  priceChart,
  renderSvg,
  VEGA_LITE_MIME,
  type VegaLiteSpec,
} from "./charts";
export {
  type CellValue,
  csvField,
  DATAFRAME_INSTALL,
  DATAFRAME_PACKAGE,
  type DataFrame,
  type DataRecord,
} from "./data";
export type { ColumnKind } from "./format";
export { asTable, type Displayable, type LiveView, showLive, withDisplay } from "./results";
export {
  type Column,
  type DataColumn,
  type DataTable,
  type TableOptions,
  toDataTable,
  toHtml,
  toText,
} from "./table";
export { type Throttle, throttleLatest } from "./throttle";
export {
  displayBundle,
  isTslab,
  type LiveDisplay,
  type MimeBundle,
  newLiveDisplay,
  publishHidden,
} from "./tslab";
export type { View } from "./views";
