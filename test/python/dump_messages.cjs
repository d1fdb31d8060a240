/**
 * Encodes one of every message ibkr-sim sends, at each server version the decoder checks cover, and
 * prints them as JSON for check_decoders.py. Each message carries the sample it was encoded from, so
 * the Python side can compare what the real decoders read back with what went in.
 *
 * Output: { versions: { "157": [{ name, fields, sample }, ...], ... } }
 * Usage: node test/python/dump_messages.cjs 157 163 164 166 170 176   (needs kernel-lib/dist)
 */
const path = require("node:path");

const { simulator } = require(path.join(__dirname, "..", "..", "kernel-lib", "dist"));
const { ServerMessageEncoder } = simulator.protocol;

const universe = new simulator.Universe();
const ACCOUNT = "DU7654321";

/** A built-in instrument's contract, by the key scenarios use. */
function contract(key) {
  const instrument = universe.get(key);
  if (!instrument) throw new Error(`no built-in instrument "${key}"`);
  return instrument.details.contract;
}

/** As an execution reports it: routed to the primary exchange instead of SMART. */
function executedOn(key, exchange) {
  return { ...contract(key), exchange };
}

const AAPL = contract("AAPL");
const ES = contract("ES");
const AAPL_CALL = contract("AAPL 270115C250");
const EURUSD = contract("EUR.USD");

/** An openOrder sample: a plain DAY order of client 2 unless `fields` say otherwise. */
function order(fields) {
  return {
    clientId: 2,
    parentId: 0,
    tif: "DAY",
    ocaGroup: "",
    account: ACCOUNT,
    orderRef: "",
    outsideRth: false,
    goodAfterTime: "",
    goodTillDate: "",
    lmtPrice: undefined,
    auxPrice: undefined,
    whatIf: false,
    state: {},
    ...fields,
  };
}

/** An execution sample of client 2's order, unless `fields` say otherwise. */
function execution(fields) {
  return {
    account: ACCOUNT,
    permId: 1800000002,
    clientId: 2,
    liquidation: 0,
    orderRef: "",
    lastLiquidity: 2,
    ...fields,
  };
}

const BARS = [
  {
    time: "20261124 14:30:00 UTC",
    open: 231.12,
    high: 231.88,
    low: 230.95,
    close: 231.54,
    volume: 18234.4,
    wap: 231.41,
    count: 412,
  },
  {
    time: "20261124 14:35:00 UTC",
    open: 231.54,
    high: 232.07,
    low: 231.3,
    close: 231.96,
    volume: 9120.75,
    wap: 231.71,
    count: 238,
  },
  {
    time: "20261124 14:40:00 UTC",
    open: 231.96,
    high: 231.99,
    low: 231.02,
    close: 231.18,
    volume: 11307.2,
    wap: 231.49,
    count: 301,
  },
];

/**
 * One entry per message kind (several for kinds whose layout depends on the data: contracts of
 * every security type, each order type, commission with and without realized P&L).
 * `encode(e, s)` turns the sample `s` into fields with encoder `e`.
 */
const CASES = [
  {
    name: "managedAccounts",
    sample: { accounts: ["DU1234567", ACCOUNT] },
    encode: (e, s) => e.managedAccounts(s.accounts),
  },
  { name: "nextValidId", sample: { orderId: 1001 }, encode: (e, s) => e.nextValidId(s.orderId) },
  {
    name: "currentTime",
    sample: { epochSeconds: 1795530667 },
    encode: (e, s) => e.currentTime(s.epochSeconds),
  },
  {
    name: "error[order rejected]",
    sample: {
      id: 1003,
      code: 201,
      message: "Order rejected - reason:The order quantity 0.5 is not a multiple of the size increment 1",
      advancedOrderRejectJson: '{"rejectReason":"SIZE_INCREMENT"}',
    },
    encode: (e, s) => e.error(s.id, s.code, s.message, s.advancedOrderRejectJson),
  },
  {
    name: "error[farm notice]",
    sample: {
      id: -1,
      code: 2104,
      message: "Market data farm connection is OK:usfarm",
      advancedOrderRejectJson: "",
    },
    encode: (e, s) => e.error(s.id, s.code, s.message),
  },
  {
    name: "marketDataType",
    sample: { reqId: 7, marketDataType: 3 },
    encode: (e, s) => e.marketDataType(s.reqId, s.marketDataType),
  },
  {
    name: "tickPrice[bid]",
    sample: { reqId: 7, tickType: 1, price: 231.47, size: 312.6, attrMask: 1 },
    encode: (e, s) => e.tickPrice(s.reqId, s.tickType, s.price, s.size, s.attrMask),
  },
  {
    name: "tickPrice[last]",
    sample: { reqId: 7, tickType: 4, price: 231.49, size: 0.35, attrMask: 0 },
    encode: (e, s) => e.tickPrice(s.reqId, s.tickType, s.price, s.size, s.attrMask),
  },
  {
    name: "tickSize[volume]",
    sample: { reqId: 7, tickType: 8, size: 18345.37 },
    encode: (e, s) => e.tickSize(s.reqId, s.tickType, s.size),
  },
  {
    name: "tickString[lastTimestamp]",
    sample: { reqId: 7, tickType: 45, value: "1795530667" },
    encode: (e, s) => e.tickString(s.reqId, s.tickType, s.value),
  },
  {
    name: "tickGeneric[halted]",
    sample: { reqId: 7, tickType: 49, value: 0 },
    encode: (e, s) => e.tickGeneric(s.reqId, s.tickType, s.value),
  },
  { name: "tickSnapshotEnd", sample: { reqId: 8 }, encode: (e, s) => e.tickSnapshotEnd(s.reqId) },
  ...universe.instruments.map((instrument) => ({
    name: `contractDetails[${instrument.key}]`,
    sample: { reqId: 9, details: instrument.details },
    encode: (e, s) => e.contractDetails(s.reqId, s.details),
  })),
  { name: "contractDetailsEnd", sample: { reqId: 9 }, encode: (e, s) => e.contractDetailsEnd(s.reqId) },
  {
    name: "historicalData",
    sample: { reqId: 10, start: "20261123 14:40:00 UTC", end: "20261124 14:45:00 UTC", bars: BARS },
    encode: (e, s) => e.historicalData(s.reqId, s.start, s.end, s.bars),
  },
  {
    name: "historicalDataUpdate",
    sample: { reqId: 10, bar: BARS[2] },
    encode: (e, s) => e.historicalDataUpdate(s.reqId, s.bar),
  },
  ...[
    { contract: AAPL, position: 312.5, avgCost: 187.42 },
    { contract: ES, position: 2, avgCost: 296875.5 },
    { contract: AAPL_CALL, position: 10, avgCost: 940.65 },
    { contract: EURUSD, position: -50000, avgCost: 1.0811 },
  ].map((p) => ({
    name: `position[${p.contract.localSymbol}]`,
    sample: { account: ACCOUNT, ...p },
    encode: (e, s) => e.position(s),
  })),
  { name: "positionEnd", sample: {}, encode: (e) => e.positionEnd() },
  {
    name: "accountSummary",
    sample: { reqId: 11, account: ACCOUNT, tag: "NetLiquidation", value: "1184250.35", currency: "USD" },
    encode: (e, s) => e.accountSummary(s.reqId, s.account, s.tag, s.value, s.currency),
  },
  { name: "accountSummaryEnd", sample: { reqId: 11 }, encode: (e, s) => e.accountSummaryEnd(s.reqId) },
  {
    name: "accountValue",
    sample: { key: "CashBalance", value: "184250.35", currency: "USD", account: ACCOUNT },
    encode: (e, s) => e.accountValue(s.key, s.value, s.currency, s.account),
  },
  ...[
    {
      contract: AAPL,
      position: 312.5,
      marketPrice: 231.48,
      marketValue: 72337.5,
      averageCost: 187.42,
      unrealizedPnl: 13768.75,
      realizedPnl: 0,
    },
    {
      contract: ES,
      position: 2,
      marketPrice: 6051.25,
      marketValue: 605125,
      averageCost: 296875.5,
      unrealizedPnl: 11374,
      realizedPnl: -212.35,
    },
  ].map((p) => ({
    name: `portfolioValue[${p.contract.localSymbol}]`,
    sample: { account: ACCOUNT, ...p },
    encode: (e, s) => e.portfolioValue(s),
  })),
  { name: "accountUpdateTime", sample: { time: "14:31" }, encode: (e, s) => e.accountUpdateTime(s.time) },
  {
    name: "accountDownloadEnd",
    sample: { account: ACCOUNT },
    encode: (e, s) => e.accountDownloadEnd(s.account),
  },
  {
    name: "accountUpdateMulti",
    sample: {
      reqId: 12,
      account: ACCOUNT,
      modelCode: "",
      key: "NetLiquidation",
      value: "1184250.35",
      currency: "USD",
    },
    encode: (e, s) => e.accountUpdateMulti(s.reqId, s.account, s.modelCode, s.key, s.value, s.currency),
  },
  {
    name: "accountUpdateMultiEnd",
    sample: { reqId: 12 },
    encode: (e, s) => e.accountUpdateMultiEnd(s.reqId),
  },
  {
    name: "pnl",
    sample: { reqId: 13, dailyPnl: 1523.47, unrealizedPnl: 25891.2, realizedPnl: -312.5 },
    encode: (e, s) => e.pnl(s.reqId, s.dailyPnl, s.unrealizedPnl, s.realizedPnl),
  },
  {
    name: "pnlSingle",
    sample: {
      reqId: 14,
      position: 27.35,
      dailyPnl: 86.1,
      unrealizedPnl: 1205.33,
      realizedPnl: 0,
      value: 6331.08,
    },
    encode: (e, s) => e.pnlSingle(s.reqId, s.position, s.dailyPnl, s.unrealizedPnl, s.realizedPnl, s.value),
  },
  ...[
    order({
      orderId: 1001,
      permId: 1800000001,
      contract: AAPL,
      action: "BUY",
      totalQuantity: 100,
      orderType: "LMT",
      lmtPrice: 228.35,
      orderRef: "rebalance",
      status: "Submitted",
    }),
    order({
      orderId: 1002,
      permId: 1800000002,
      contract: ES,
      action: "SELL",
      totalQuantity: 2,
      orderType: "MKT",
      status: "Filled",
    }),
    order({
      orderId: 1003,
      permId: 1800000003,
      contract: EURUSD,
      action: "SELL",
      totalQuantity: 25000,
      orderType: "STP",
      auxPrice: 1.0475,
      tif: "GTC",
      outsideRth: true,
      status: "PreSubmitted",
    }),
    order({
      orderId: 1004,
      permId: 0,
      contract: AAPL,
      action: "BUY",
      totalQuantity: 10.5,
      orderType: "LMT",
      lmtPrice: 231.4,
      whatIf: true,
      status: "PreSubmitted",
      state: {
        initMarginChange: "607.43",
        maintMarginChange: "607.43",
        equityWithLoanChange: "-1.00",
        initMarginAfter: "52311.88",
        maintMarginAfter: "47855.12",
        equityWithLoanAfter: "1184249.35",
        commission: 1,
        minCommission: 1,
        maxCommission: 1.05,
        commissionCurrency: "USD",
        warningText: "",
      },
    }),
  ].map((o) => ({
    name: `openOrder[${o.whatIf ? "whatIf" : o.orderType}]`,
    sample: o,
    encode: (e, s) => e.openOrder(s),
  })),
  { name: "openOrderEnd", sample: {}, encode: (e) => e.openOrderEnd() },
  ...[
    {
      orderId: 1002,
      status: "Filled",
      filled: 3,
      remaining: 0,
      avgFillPrice: 231.52,
      permId: 1800000002,
      parentId: 0,
      lastFillPrice: 231.52,
      clientId: 2,
      whyHeld: "",
      mktCapPrice: 0,
    },
    {
      orderId: 1005,
      status: "Submitted",
      filled: 37.5,
      remaining: 62.5,
      avgFillPrice: 231.4675,
      permId: 1800000005,
      parentId: 0,
      lastFillPrice: 231.47,
      clientId: 2,
      whyHeld: "",
      mktCapPrice: 0,
    },
  ].map((s) => ({ name: `orderStatus[${s.status}]`, sample: s, encode: (e, x) => e.orderStatus(x) })),
  ...[
    {
      reqId: -1,
      execution: execution({
        orderId: 1002,
        contract: executedOn("AAPL", "NASDAQ"),
        execId: "0000e1a4.00000001.01.01",
        time: "20261124  14:31:07",
        exchange: "NASDAQ",
        side: "BOT",
        shares: 3,
        price: 231.52,
        cumQty: 3,
        avgPrice: 231.52,
      }),
    },
    {
      reqId: 15,
      execution: execution({
        orderId: 1006,
        permId: 1800000006,
        contract: EURUSD,
        execId: "0000e1a4.00000002.01.01",
        time: "20261124  14:32:41",
        exchange: "IDEALPRO",
        side: "SLD",
        shares: 12500.5,
        price: 1.05415,
        cumQty: 12500.5,
        avgPrice: 1.05415,
        orderRef: "hedge",
        lastLiquidity: 1,
      }),
    },
  ].map((x) => ({
    name: `execDetails[${x.execution.contract.localSymbol}]`,
    sample: x,
    encode: (e, s) => e.execDetails(s.reqId, s.execution),
  })),
  { name: "execDetailsEnd", sample: { reqId: 15 }, encode: (e, s) => e.execDetailsEnd(s.reqId) },
  {
    name: "commissionReport[opening]",
    sample: { execId: "0000e1a4.00000001.01.01", commission: 1, currency: "USD", realizedPnl: undefined },
    encode: (e, s) => e.commissionReport(s),
  },
  {
    name: "commissionReport[closing]",
    sample: { execId: "0000e1a4.00000002.01.01", commission: 2.11, currency: "USD", realizedPnl: 1234.56 },
    encode: (e, s) => e.commissionReport(s),
  },
  { name: "completedOrdersEnd", sample: {}, encode: (e) => e.completedOrdersEnd() },
];

/** Encoder members that are not server messages: the handshake reply and a helper. */
const NOT_MESSAGES = new Set(["constructor", "serverHello", "size"]);

/** Every message the encoder can write must have a case here, or the check would silently skip it. */
function uncoveredMessages() {
  const covered = new Set(CASES.map((c) => c.name.split("[")[0]));
  return Object.getOwnPropertyNames(ServerMessageEncoder.prototype).filter(
    (name) => !NOT_MESSAGES.has(name) && !covered.has(name),
  );
}

function messagesAt(serverVersion) {
  const encoder = new ServerMessageEncoder(serverVersion);
  return CASES.map(({ name, sample, encode }) => ({ name, fields: encode(encoder, sample), sample }));
}

const versions = process.argv.slice(2).map(Number);
if (versions.length === 0 || versions.some((v) => !Number.isInteger(v))) {
  process.stderr.write("usage: node dump_messages.cjs VERSION...\n");
  process.exit(2);
}
const uncovered = uncoveredMessages();
if (uncovered.length > 0) {
  process.stderr.write(`dump_messages.cjs has no sample for: ${uncovered.join(", ")}\n`);
  process.exit(1);
}
const out = { versions: {} };
for (const v of versions) out.versions[v] = messagesAt(v);
process.stdout.write(`${JSON.stringify(out)}\n`);
