/**
 * Client → server requests, decoded for one negotiated server version. Accepts what every client
 * writes (@stoqey/ib, ib_async, IB's ibapi): blanks, explicit defaults and "unset" sentinels alike.
 * Field lists: research/tws-protocol-and-stoqey.md §3.1 and §3.3; gates: tws-versions-157-176.md §3.
 */
import { FieldReader, isUnset, ProtocolError } from "./fields";
import { type ClientRequest, type ContractSpec, ClientRequestId as Id, type OrderRequest } from "./messages";
import { ServerVersion } from "./versions";

/** A request id the simulator does not implement. The session answers it with an error; it is not fatal. */
export class UnknownRequestError extends ProtocolError {
  constructor(readonly messageId: string) {
    super(`unknown or unsupported request id "${messageId}"`);
    this.name = "UnknownRequestError";
  }
}

const REQUEST_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Id).map(([name, id]) => [id, name]),
);

/** The IB name of a request id, for logs and errors. */
export function requestName(id: number | string): string {
  return REQUEST_NAMES[Number(id)] ?? `request ${id}`;
}

/** Decodes one frame's fields. Throws ProtocolError (or UnknownRequestError) on bad input. */
export function parseRequest(fields: readonly string[], serverVersion: number): ClientRequest {
  const idText = fields[0] ?? "";
  const id = /^\d+$/.test(idText) ? Number(idText) : Number.NaN;
  const name = REQUEST_NAMES[id];
  if (name === undefined) throw new UnknownRequestError(idText);
  const r = new FieldReader(fields, name);
  switch (id) {
    case Id.START_API: {
      r.skip(); // version
      const clientId = r.int("clientId");
      const optionalCapabilities = r.remaining > 0 ? r.str("optionalCapabilities") : "";
      return { type: "startApi", clientId, optionalCapabilities };
    }
    case Id.REQ_MKT_DATA: {
      r.skip();
      const reqId = r.int("tickerId");
      const contract = readContract(r, { primaryExchange: true });
      if (contract.secType === "BAG") skipComboLegs(r, 4);
      if (r.bool("deltaNeutralContract")) r.skip(3);
      const genericTickList = r.str("genericTickList");
      const snapshot = r.bool("snapshot");
      const regulatorySnapshot = r.remaining > 0 ? r.bool("regulatorySnapshot") : false;
      return { type: "reqMktData", reqId, contract, genericTickList, snapshot, regulatorySnapshot };
    }
    case Id.CANCEL_MKT_DATA:
      r.skip();
      return { type: "cancelMktData", reqId: r.int("tickerId") };
    case Id.REQ_MARKET_DATA_TYPE:
      r.skip();
      return { type: "reqMarketDataType", marketDataType: r.int("marketDataType") };
    case Id.PLACE_ORDER:
      return parsePlaceOrder(r, serverVersion);
    case Id.CANCEL_ORDER: {
      // Version field below 192 (all versions we speak); manualOrderCancelTime from 169.
      r.skip();
      const orderId = r.int("orderId");
      const manualOrderCancelTime =
        serverVersion >= ServerVersion.MANUAL_ORDER_TIME && r.remaining > 0
          ? r.str("manualOrderCancelTime")
          : "";
      return { type: "cancelOrder", orderId, manualOrderCancelTime };
    }
    case Id.REQ_GLOBAL_CANCEL:
      return { type: "reqGlobalCancel" };
    case Id.REQ_OPEN_ORDERS:
      return { type: "reqOpenOrders" };
    case Id.REQ_ALL_OPEN_ORDERS:
      return { type: "reqAllOpenOrders" };
    case Id.REQ_AUTO_OPEN_ORDERS:
      r.skip();
      return { type: "reqAutoOpenOrders", autoBind: r.bool("autoBind") };
    case Id.REQ_COMPLETED_ORDERS:
      return { type: "reqCompletedOrders", apiOnly: r.bool("apiOnly") };
    case Id.REQ_IDS:
      r.skip();
      return { type: "reqIds", numIds: r.int("numIds", 1) };
    case Id.REQ_EXECUTIONS: {
      r.skip();
      const reqId = r.int("reqId");
      return {
        type: "reqExecutions",
        reqId,
        filter: {
          clientId: r.optInt("clientId"),
          account: r.str("acctCode"),
          time: r.str("time"),
          symbol: r.str("symbol"),
          secType: r.str("secType"),
          exchange: r.str("exchange"),
          side: r.str("side"),
        },
      };
    }
    case Id.REQ_ACCOUNT_UPDATES: {
      r.skip();
      const subscribe = r.bool("subscribe");
      return { type: "reqAccountUpdates", subscribe, account: r.str("acctCode") };
    }
    case Id.REQ_ACCOUNT_UPDATES_MULTI: {
      r.skip();
      const reqId = r.int("reqId");
      const account = r.str("account");
      const modelCode = r.str("modelCode");
      return {
        type: "reqAccountUpdatesMulti",
        reqId,
        account,
        modelCode,
        ledgerAndNlv: r.bool("ledgerAndNLV"),
      };
    }
    case Id.CANCEL_ACCOUNT_UPDATES_MULTI:
      r.skip();
      return { type: "cancelAccountUpdatesMulti", reqId: r.int("reqId") };
    case Id.REQ_ACCOUNT_SUMMARY: {
      r.skip();
      const reqId = r.int("reqId");
      const group = r.str("group");
      return { type: "reqAccountSummary", reqId, group, tags: r.str("tags") };
    }
    case Id.CANCEL_ACCOUNT_SUMMARY:
      r.skip();
      return { type: "cancelAccountSummary", reqId: r.int("reqId") };
    case Id.REQ_POSITIONS:
      return { type: "reqPositions" };
    case Id.CANCEL_POSITIONS:
      return { type: "cancelPositions" };
    case Id.REQ_PNL: {
      const reqId = r.int("reqId");
      const account = r.str("account");
      return { type: "reqPnL", reqId, account, modelCode: r.str("modelCode") };
    }
    case Id.CANCEL_PNL:
      return { type: "cancelPnL", reqId: r.int("reqId") };
    case Id.REQ_PNL_SINGLE: {
      const reqId = r.int("reqId");
      const account = r.str("account");
      const modelCode = r.str("modelCode");
      return { type: "reqPnLSingle", reqId, account, modelCode, conId: r.int("conId") };
    }
    case Id.CANCEL_PNL_SINGLE:
      return { type: "cancelPnLSingle", reqId: r.int("reqId") };
    case Id.REQ_MANAGED_ACCOUNTS:
      return { type: "reqManagedAccounts" };
    case Id.REQ_CURRENT_TIME:
      return { type: "reqCurrentTime" };
    case Id.SET_SERVER_LOG_LEVEL:
      r.skip();
      return { type: "setServerLogLevel", level: r.int("logLevel", 0) };
    case Id.REQ_CONTRACT_DETAILS: {
      r.skip();
      const reqId = r.int("reqId");
      const contract = readContract(r, { primaryExchange: true });
      const includeExpired = r.bool("includeExpired");
      const secIdType = r.str("secIdType");
      const secId = r.str("secId");
      const issuerId =
        serverVersion >= ServerVersion.BOND_ISSUERID && r.remaining > 0 ? r.str("issuerId") : "";
      return { type: "reqContractDetails", reqId, contract, includeExpired, secIdType, secId, issuerId };
    }
    case Id.REQ_HISTORICAL_DATA: {
      // No version field since 124.
      const reqId = r.int("tickerId");
      const contract = readContract(r, { primaryExchange: true });
      const includeExpired = r.bool("includeExpired");
      const endDateTime = r.str("endDateTime");
      const barSize = r.str("barSizeSetting");
      const duration = r.str("durationStr");
      const useRth = r.bool("useRTH");
      const whatToShow = r.str("whatToShow");
      const formatDate = r.int("formatDate", 1);
      if (contract.secType === "BAG") skipComboLegs(r, 4);
      const keepUpToDate = r.bool("keepUpToDate");
      return {
        type: "reqHistoricalData",
        reqId,
        contract,
        includeExpired,
        endDateTime,
        barSize,
        duration,
        useRth,
        whatToShow,
        formatDate,
        keepUpToDate,
      };
    }
    case Id.CANCEL_HISTORICAL_DATA:
      r.skip();
      return { type: "cancelHistoricalData", reqId: r.int("tickerId") };
    default:
      throw new UnknownRequestError(idText);
  }
}

function readContract(r: FieldReader, options: { primaryExchange: boolean }): ContractSpec {
  return {
    conId: r.optInt("conId"),
    symbol: r.str("symbol"),
    secType: r.str("secType"),
    lastTradeDateOrContractMonth: r.str("lastTradeDateOrContractMonth"),
    strike: r.optNum("strike"),
    right: r.str("right"),
    multiplier: r.str("multiplier"),
    exchange: r.str("exchange"),
    primaryExchange: options.primaryExchange ? r.str("primaryExchange") : "",
    currency: r.str("currency"),
    localSymbol: r.str("localSymbol"),
    tradingClass: r.str("tradingClass"),
  };
}

/** Combo legs: a count, then `fieldsPerLeg` fields per leg. */
function skipComboLegs(r: FieldReader, fieldsPerLeg: number): void {
  const count = r.int("comboLegsCount", 0);
  if (count < 0 || count > 1000) throw new ProtocolError(`${r.request}: implausible comboLegsCount ${count}`);
  r.skip(count * fieldsPerLeg);
}

/** Fields after the condition type, by IB's OrderCondition type id. */
const CONDITION_FIELDS: Record<number, number> = {
  1: 6, // price: conjunction, isMore, price, conId, exchange, triggerMethod
  3: 3, // time: conjunction, isMore, time
  4: 3, // margin: conjunction, isMore, percent
  5: 4, // execution: conjunction, secType, exchange, symbol
  6: 5, // volume: conjunction, isMore, volume, conId, exchange
  7: 5, // percent change: conjunction, isMore, changePercent, conId, exchange
};

/** placeOrder at 157..176: no version field (since 145); 110 fields for a plain order at 157, 115 from 169. */
function parsePlaceOrder(r: FieldReader, sv: number): ClientRequest {
  const orderId = r.int("orderId");
  const contract = readContract(r, { primaryExchange: true });
  r.skip(2); // secIdType, secId
  const action = r.str("action");
  const totalQuantity = r.optNum("totalQuantity");
  const orderType = r.str("orderType");
  const lmtPrice = r.optNum("lmtPrice");
  const auxPrice = r.optNum("auxPrice");
  const tif = r.str("tif");
  const ocaGroup = r.str("ocaGroup");
  const account = r.str("account");
  const openClose = r.str("openClose");
  r.skip(); // origin
  const orderRef = r.str("orderRef");
  const transmit = r.bool("transmit");
  const parentId = r.int("parentId", 0);
  r.skip(4); // blockOrder, sweepToFill, displaySize, triggerMethod
  const outsideRth = r.bool("outsideRth");
  const hidden = r.bool("hidden");
  if (contract.secType === "BAG") {
    skipComboLegs(r, 8);
    skipComboLegs(r, 1); // per-leg prices
    skipComboLegs(r, 2); // smart combo routing params
  }
  r.skip(2); // sharesAllocation, discretionaryAmt
  const goodAfterTime = r.str("goodAfterTime");
  const goodTillDate = r.str("goodTillDate");
  r.skip(4); // faGroup, faMethod, faPercentage, faProfile (below 177)
  r.skip(1); // modelCode
  r.skip(3); // shortSaleSlot, designatedLocation, exemptCode
  r.skip(15); // ocaType .. stockRangeUpper
  r.skip(1); // overridePercentageConstraints
  r.skip(2); // volatility, volatilityType
  const deltaNeutralOrderType = r.str("deltaNeutralOrderType");
  r.skip(); // deltaNeutralAuxPrice
  if (deltaNeutralOrderType !== "" && !isUnset(deltaNeutralOrderType)) r.skip(8);
  r.skip(4); // continuousUpdate, referencePriceType, trailStopPrice, trailingPercent
  r.skip(2); // scaleInitLevelSize, scaleSubsLevelSize
  const scalePriceIncrement = r.optNum("scalePriceIncrement");
  if (scalePriceIncrement !== undefined && scalePriceIncrement > 0) r.skip(7);
  r.skip(3); // scaleTable, activeStartTime, activeStopTime
  const hedgeType = r.str("hedgeType");
  if (hedgeType !== "") r.skip(); // hedgeParam
  r.skip(4); // optOutSmartRouting, clearingAccount, clearingIntent, notHeld
  if (r.bool("deltaNeutralContract")) r.skip(3);
  const algoStrategy = r.str("algoStrategy");
  if (algoStrategy !== "") {
    const params = r.int("algoParamsCount", 0);
    if (params < 0 || params > 1000)
      throw new ProtocolError(`placeOrder: implausible algoParamsCount ${params}`);
    r.skip(params * 2);
  }
  r.skip(); // algoId
  const whatIf = r.bool("whatIf");
  r.skip(4); // orderMiscOptions, solicited, randomizeSize, randomizePrice
  if (orderType === "PEG BENCH" || orderType === "PEGBENCH") r.skip(5);
  const conditionCount = r.int("conditionsCount", 0);
  if (conditionCount < 0 || conditionCount > 100) {
    throw new ProtocolError(`placeOrder: implausible conditionsCount ${conditionCount}`);
  }
  if (conditionCount > 0) {
    for (let i = 0; i < conditionCount; i++) {
      const conditionType = r.int("conditionType");
      const count = CONDITION_FIELDS[conditionType];
      if (count === undefined)
        throw new ProtocolError(`placeOrder: unknown order condition type ${conditionType}`);
      r.skip(count);
    }
    r.skip(2); // conditionsIgnoreRth, conditionsCancelOrder
  }
  r.skip(7); // adjustedOrderType .. adjustableTrailingUnit
  r.skip(1); // extOperator
  r.skip(2); // softDollarTier name, value
  const cashQty = r.optNum("cashQty");
  r.skip(4, "mifid2 fields");
  r.skip(4, "dontUseAutoPriceForHedge..usePriceMgmtAlgo");
  // Gated additions; the simulator models none of them but holds clients to their version.
  if (sv >= ServerVersion.DURATION) r.str("duration");
  if (sv >= ServerVersion.POST_TO_ATS) r.str("postToAts");
  if (sv >= ServerVersion.AUTO_CANCEL_PARENT) r.str("autoCancelParent");
  if (sv >= ServerVersion.ADVANCED_ORDER_REJECT) r.str("advancedErrorOverride");
  if (sv >= ServerVersion.MANUAL_ORDER_TIME) r.str("manualOrderTime");
  const order: OrderRequest = {
    action,
    totalQuantity,
    orderType,
    lmtPrice,
    auxPrice,
    tif,
    ocaGroup,
    account,
    openClose,
    orderRef,
    transmit,
    parentId,
    outsideRth,
    hidden,
    goodAfterTime,
    goodTillDate,
    whatIf,
    cashQty,
    algoStrategy,
    conditionCount,
  };
  return { type: "placeOrder", orderId, contract, order };
}
