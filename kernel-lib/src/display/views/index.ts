/** What each of the library's results looks like in a notebook and as text. */
export {
  accountSummaryView,
  accountView,
  pnlView,
  portfolioView,
  positionPnlView,
  positionsView,
} from "./account";
export { type ConnectionSnapshot, connectionView } from "./connection";
export { type BarSeries, barsView, contractsView, contractView, quotesView, quoteView } from "./market";
export { fillsView, openOrdersView, tradesView, tradeView, type WhatIf, whatIfView } from "./orders";
export { dataOf, type View } from "./view";
