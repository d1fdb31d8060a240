/**
 * Server → client messages, field by field, for one negotiated server version (157..176).
 * Each method returns the fields of one message (id first); `encodeFrame` puts them on the wire.
 * Field lists and gates: research/tws-protocol-and-stoqey.md §3.2 and tws-versions-157-176.md §2.
 */
import { field, formatNumber } from "./fields";
import {
  type Bar,
  type CommissionReportData,
  type ContractDetails,
  type ExecutionData,
  ServerMessageId as Id,
  type OpenOrderData,
  type OrderStatusData,
  type PortfolioData,
  type PositionData,
} from "./messages";
import { ServerVersion } from "./versions";

const { str, int, num, bool } = field;

/** Java's Double.MAX_VALUE as TWS prints it: the "not applicable" value of some doubles. */
const DOUBLE_MAX = "1.7976931348623157E308";

export class ServerMessageEncoder {
  constructor(readonly serverVersion: number) {}

  /** Sizes are integers below 163 (IB's ibapi 9.81 parses them with int()), decimals from 163. */
  private size(value: number | undefined): string {
    if (value === undefined) return "";
    return this.serverVersion >= ServerVersion.FRACTIONAL_SIZE_SUPPORT
      ? formatNumber(value)
      : String(Math.round(value));
  }

  // ── connection ──────────────────────────────────────────────────────────────────────────────

  /** The reply to the client's hello: exactly two fields, no message id. */
  serverHello(connectionTime: string): string[] {
    return [String(this.serverVersion), connectionTime];
  }

  managedAccounts(accounts: readonly string[]): string[] {
    return [String(Id.MANAGED_ACCOUNTS), "1", accounts.join(",")];
  }

  nextValidId(orderId: number): string[] {
    return [String(Id.NEXT_VALID_ID), "1", int(orderId)];
  }

  currentTime(epochSeconds: number): string[] {
    return [String(Id.CURRENT_TIME), "1", int(epochSeconds)];
  }

  /** An error or notice; `id` is -1 for messages about the connection rather than a request. */
  error(id: number, code: number, message: string, advancedOrderRejectJson = ""): string[] {
    const fields = [String(Id.ERROR), "2", int(id), int(code), message];
    if (this.serverVersion >= ServerVersion.ADVANCED_ORDER_REJECT) fields.push(advancedOrderRejectJson);
    return fields;
  }

  // ── market data ─────────────────────────────────────────────────────────────────────────────

  marketDataType(reqId: number, marketDataType: number): string[] {
    return [String(Id.MARKET_DATA_TYPE), "1", int(reqId), int(marketDataType)];
  }

  /** attrMask bit 0: canAutoExecute, bit 1: pastLimit, bit 2: preOpen. */
  tickPrice(
    reqId: number,
    tickType: number,
    price: number,
    size: number | undefined,
    attrMask = 0,
  ): string[] {
    return [
      String(Id.TICK_PRICE),
      "3",
      int(reqId),
      int(tickType),
      num(price),
      this.size(size),
      int(attrMask),
    ];
  }

  tickSize(reqId: number, tickType: number, size: number): string[] {
    return [String(Id.TICK_SIZE), "6", int(reqId), int(tickType), this.size(size)];
  }

  tickString(reqId: number, tickType: number, value: string): string[] {
    return [String(Id.TICK_STRING), "6", int(reqId), int(tickType), value];
  }

  tickGeneric(reqId: number, tickType: number, value: number): string[] {
    return [String(Id.TICK_GENERIC), "6", int(reqId), int(tickType), num(value)];
  }

  tickSnapshotEnd(reqId: number): string[] {
    return [String(Id.TICK_SNAPSHOT_END), "1", int(reqId)];
  }

  // ── contracts and history ───────────────────────────────────────────────────────────────────

  contractDetails(reqId: number, d: ContractDetails): string[] {
    const c = d.contract;
    const sv = this.serverVersion;
    const fields = [String(Id.CONTRACT_DATA)];
    if (sv < ServerVersion.SIZE_RULES) fields.push("8");
    fields.push(
      int(reqId),
      c.symbol,
      c.secType,
      c.lastTradeDateOrContractMonth,
      num(c.strike),
      c.right,
      c.exchange,
      c.currency,
      c.localSymbol,
      d.marketName,
      c.tradingClass,
      int(c.conId),
      num(d.minTick),
    );
    if (sv < ServerVersion.SIZE_RULES) fields.push("1"); // mdSizeMultiplier
    fields.push(
      c.multiplier,
      d.orderTypes,
      d.validExchanges,
      "1", // priceMagnifier
      int(d.underConId),
      d.longName,
      c.primaryExchange,
      d.contractMonth,
      d.industry,
      d.category,
      d.subcategory,
      d.timeZoneId,
      d.tradingHours,
      d.liquidHours,
      "", // evRule
      "", // evMultiplier
      "0", // secIdList count
      "0", // aggGroup
      d.underSymbol,
      d.underSecType,
      d.marketRuleIds,
      d.realExpirationDate,
      d.stockType,
    );
    if (sv === ServerVersion.FRACTIONAL_SIZE_SUPPORT) fields.push(formatNumber(d.minSize)); // sizeMinTick
    if (sv >= ServerVersion.SIZE_RULES) {
      fields.push(
        formatNumber(d.minSize),
        formatNumber(d.sizeIncrement),
        formatNumber(d.suggestedSizeIncrement),
      );
    }
    return fields;
  }

  contractDetailsEnd(reqId: number): string[] {
    return [String(Id.CONTRACT_DATA_END), "1", int(reqId)];
  }

  historicalData(reqId: number, start: string, end: string, bars: readonly Bar[]): string[] {
    const fields = [String(Id.HISTORICAL_DATA), int(reqId), start, end, int(bars.length)];
    for (const bar of bars) {
      fields.push(
        bar.time,
        num(bar.open),
        num(bar.high),
        num(bar.low),
        num(bar.close),
        this.size(bar.volume),
        num(bar.wap),
        int(bar.count),
      );
    }
    return fields;
  }

  /** Note IB's order here: open, close, high, low. */
  historicalDataUpdate(reqId: number, bar: Bar): string[] {
    return [
      String(Id.HISTORICAL_DATA_UPDATE),
      int(reqId),
      int(bar.count),
      bar.time,
      num(bar.open),
      num(bar.close),
      num(bar.high),
      num(bar.low),
      num(bar.wap),
      this.size(bar.volume),
    ];
  }

  // ── accounts and positions ──────────────────────────────────────────────────────────────────

  position(p: PositionData): string[] {
    const c = p.contract;
    return [
      String(Id.POSITION),
      "3",
      p.account,
      int(c.conId),
      c.symbol,
      c.secType,
      c.lastTradeDateOrContractMonth,
      num(c.strike),
      c.right,
      c.multiplier,
      c.exchange,
      c.currency,
      c.localSymbol,
      c.tradingClass,
      num(p.position),
      num(p.avgCost),
    ];
  }

  positionEnd(): string[] {
    return [String(Id.POSITION_END), "1"];
  }

  accountSummary(reqId: number, account: string, tag: string, value: string, currency: string): string[] {
    return [String(Id.ACCOUNT_SUMMARY), "1", int(reqId), account, tag, value, currency];
  }

  accountSummaryEnd(reqId: number): string[] {
    return [String(Id.ACCOUNT_SUMMARY_END), "1", int(reqId)];
  }

  accountValue(key: string, value: string, currency: string, account: string): string[] {
    return [String(Id.ACCOUNT_VALUE), "2", key, value, currency, account];
  }

  portfolioValue(p: PortfolioData): string[] {
    const c = p.contract;
    return [
      String(Id.PORTFOLIO_VALUE),
      "8",
      int(c.conId),
      c.symbol,
      c.secType,
      c.lastTradeDateOrContractMonth,
      num(c.strike),
      c.right,
      c.multiplier,
      c.primaryExchange,
      c.currency,
      c.localSymbol,
      c.tradingClass,
      num(p.position),
      num(p.marketPrice),
      num(p.marketValue),
      num(p.averageCost),
      num(p.unrealizedPnl),
      num(p.realizedPnl),
      p.account,
    ];
  }

  /** "HH:mm" of the last account update. */
  accountUpdateTime(time: string): string[] {
    return [String(Id.ACCOUNT_UPDATE_TIME), "1", time];
  }

  accountDownloadEnd(account: string): string[] {
    return [String(Id.ACCOUNT_DOWNLOAD_END), "1", account];
  }

  accountUpdateMulti(
    reqId: number,
    account: string,
    modelCode: string,
    key: string,
    value: string,
    currency: string,
  ): string[] {
    return [String(Id.ACCOUNT_UPDATE_MULTI), "1", int(reqId), account, modelCode, key, value, currency];
  }

  accountUpdateMultiEnd(reqId: number): string[] {
    return [String(Id.ACCOUNT_UPDATE_MULTI_END), "1", int(reqId)];
  }

  pnl(reqId: number, dailyPnl: number, unrealizedPnl: number, realizedPnl: number): string[] {
    return [String(Id.PNL), int(reqId), num(dailyPnl), num(unrealizedPnl), num(realizedPnl)];
  }

  pnlSingle(
    reqId: number,
    position: number,
    dailyPnl: number,
    unrealizedPnl: number,
    realizedPnl: number,
    value: number,
  ): string[] {
    return [
      String(Id.PNL_SINGLE),
      int(reqId),
      this.size(position),
      num(dailyPnl),
      num(unrealizedPnl),
      num(realizedPnl),
      num(value),
    ];
  }

  // ── orders and executions ───────────────────────────────────────────────────────────────────

  /** openOrder: 120 fields at 157, 121 at 158, 122 at 160, 123 at 162, 128 from 170 (no version field). */
  openOrder(o: OpenOrderData): string[] {
    const c = o.contract;
    const s = o.state;
    const sv = this.serverVersion;
    const fields = [
      String(Id.OPEN_ORDER),
      int(o.orderId),
      // contract
      int(c.conId),
      c.symbol,
      c.secType,
      c.lastTradeDateOrContractMonth,
      num(c.strike),
      c.right,
      c.multiplier,
      c.exchange,
      c.currency,
      c.localSymbol,
      c.tradingClass,
      // order basics
      o.action,
      num(o.totalQuantity),
      o.orderType,
      num(o.lmtPrice),
      num(o.auxPrice),
      o.tif,
      o.ocaGroup,
      o.account,
      "", // openClose
      "0", // origin: customer
      o.orderRef,
      int(o.clientId),
      int(o.permId),
      bool(o.outsideRth),
      "0", // hidden
      "0", // discretionaryAmt
      o.goodAfterTime,
      "", // sharesAllocation
      "", // faGroup
      "", // faMethod
      "", // faPercentage
      "", // faProfile (present below 177)
      "", // modelCode
      o.goodTillDate,
      "", // rule80A
      "", // percentOffset
      "", // settlingFirm
      "0", // shortSaleSlot
      "", // designatedLocation
      "-1", // exemptCode
      "0", // auctionStrategy
      "", // startingPrice
      "", // stockRefPrice
      "", // delta
      "", // stockRangeLower
      "", // stockRangeUpper
      "", // displaySize
      "0", // blockOrder
      "0", // sweepToFill
      "0", // allOrNone
      "", // minQty
      "0", // ocaType
      "0", // eTradeOnly
      "0", // firmQuoteOnly
      "", // nbboPriceCap
      int(o.parentId),
      "0", // triggerMethod
      "", // volatility
      "0", // volatilityType
      "", // deltaNeutralOrderType (blank: no delta-neutral block follows)
      "", // deltaNeutralAuxPrice
      "0", // continuousUpdate
      "0", // referencePriceType
      "", // trailStopPrice
      "", // trailingPercent
      "", // basisPoints
      "", // basisPointsType
      "", // comboLegsDescrip
      "0", // comboLegs count
      "0", // orderComboLegs count
      "0", // smartComboRoutingParams count
      "", // scaleInitLevelSize
      "", // scaleSubsLevelSize
      "", // scalePriceIncrement (unset: no scale block follows)
      "", // hedgeType (blank: no hedgeParam)
      "0", // optOutSmartRouting
      "", // clearingAccount
      "", // clearingIntent
      "0", // notHeld
      "0", // deltaNeutralContract present
      "", // algoStrategy (blank: no params)
      "0", // solicited
      bool(o.whatIf),
      o.status,
      "", // initMarginBefore
      "", // maintMarginBefore
      "", // equityWithLoanBefore
      str(s.initMarginChange),
      str(s.maintMarginChange),
      str(s.equityWithLoanChange),
      str(s.initMarginAfter),
      str(s.maintMarginAfter),
      str(s.equityWithLoanAfter),
      num(s.commission),
      num(s.minCommission),
      num(s.maxCommission),
      str(s.commissionCurrency),
      str(s.warningText),
      "0", // randomizeSize
      "0", // randomizePrice
      "0", // conditions count
      "", // adjustedOrderType
      "", // triggerPrice
      "", // trailStopPrice
      "", // lmtPriceOffset
      "", // adjustedStopPrice
      "", // adjustedStopLimitPrice
      "", // adjustedTrailingAmount
      "0", // adjustableTrailingUnit
      "", // softDollarTier name
      "", // softDollarTier value
      "", // softDollarTier displayName
      "", // cashQty
      "0", // dontUseAutoPriceForHedge
      "0", // isOmsContainer
      "0", // discretionaryUpToLimitPrice
      "", // usePriceMgmtAlgo
    ];
    if (sv >= ServerVersion.DURATION) fields.push(""); // duration
    if (sv >= ServerVersion.POST_TO_ATS) fields.push(""); // postToAts
    if (sv >= ServerVersion.AUTO_CANCEL_PARENT) fields.push("0"); // autoCancelParent
    if (sv >= ServerVersion.PEGBEST_PEGMID_OFFSETS) {
      // minTradeQty, minCompeteSize, competeAgainstBestOffset, midOffsetAtWhole, midOffsetAtHalf
      fields.push("", "", "", "", "");
    }
    return fields;
  }

  openOrderEnd(): string[] {
    return [String(Id.OPEN_ORDER_END), "1"];
  }

  /** No version field since 131. */
  orderStatus(s: OrderStatusData): string[] {
    return [
      String(Id.ORDER_STATUS),
      int(s.orderId),
      s.status,
      num(s.filled),
      num(s.remaining),
      num(s.avgFillPrice),
      int(s.permId),
      int(s.parentId),
      num(s.lastFillPrice),
      int(s.clientId),
      s.whyHeld,
      num(s.mktCapPrice),
    ];
  }

  /** reqId is -1 for a fill reported as it happens, the request's id for reqExecutions. */
  execDetails(reqId: number, e: ExecutionData): string[] {
    const c = e.contract;
    return [
      String(Id.EXECUTION_DATA),
      int(reqId),
      int(e.orderId),
      int(c.conId),
      c.symbol,
      c.secType,
      c.lastTradeDateOrContractMonth,
      num(c.strike),
      c.right,
      c.multiplier,
      c.exchange,
      c.currency,
      c.localSymbol,
      c.tradingClass,
      e.execId,
      e.time,
      e.account,
      e.exchange,
      e.side,
      num(e.shares),
      num(e.price),
      int(e.permId),
      int(e.clientId),
      int(e.liquidation),
      num(e.cumQty),
      num(e.avgPrice),
      e.orderRef,
      "", // evRule
      "", // evMultiplier
      "", // modelCode
      int(e.lastLiquidity),
    ];
  }

  execDetailsEnd(reqId: number): string[] {
    return [String(Id.EXECUTION_DATA_END), "1", int(reqId)];
  }

  commissionReport(r: CommissionReportData): string[] {
    return [
      String(Id.COMMISSION_REPORT),
      "1",
      r.execId,
      num(r.commission),
      r.currency,
      r.realizedPnl === undefined ? DOUBLE_MAX : num(r.realizedPnl),
      DOUBLE_MAX, // yield
      "", // yieldRedemptionDate
    ];
  }

  completedOrdersEnd(): string[] {
    return [String(Id.COMPLETED_ORDERS_END)];
  }
}
