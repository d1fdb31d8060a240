/**
 * Accounts: cash, positions with IB's average cost, realized P&L, and the values TWS reports
 * (account summary tags, account/portfolio updates, P&L). Everything is in the account's base
 * currency (USD); positions in other currencies are converted at the simulated FX rate.
 */
import type { Contract, PortfolioData, PositionData } from "../protocol/messages";
import type { MarketModel } from "./market";
import type { Instrument, Universe } from "./universe";

export interface Position {
  instrument: Instrument;
  quantity: number;
  /** IB's average cost: price × multiplier, commissions included. */
  avgCost: number;
  /** Realized P&L of this position since the simulator started. */
  realizedPnl: number;
}

export interface Account {
  id: string;
  currency: string;
  cash: number;
  /** Cash at start of day, for the daily P&L. */
  startCash: number;
  positions: Map<number, Position>;
  realizedPnl: number;
}

export interface PositionValue {
  position: Position;
  marketPrice: number;
  /** In the account's currency. */
  marketValue: number;
  unrealizedPnl: number;
  dailyPnl: number;
}

export interface AccountValues {
  netLiquidation: number;
  totalCash: number;
  grossPositionValue: number;
  unrealizedPnl: number;
  realizedPnl: number;
  dailyPnl: number;
  initMargin: number;
  maintMargin: number;
  availableFunds: number;
  excessLiquidity: number;
  buyingPower: number;
  positions: PositionValue[];
}

/** Margin rates by security type (Reg-T like); good enough for believable summaries. */
const INIT_MARGIN: Record<string, number> = { STK: 0.25, OPT: 1, FUT: 0.06, CASH: 0.03 };
const MAINT_MARGIN: Record<string, number> = { STK: 0.25, OPT: 1, FUT: 0.05, CASH: 0.025 };

/** Paper accounts start with DU (or DF for advisors); live ones with U. */
export function isPaperAccount(id: string): boolean {
  return /^D[UF]/.test(id);
}

export function multiplierOf(contract: Contract): number {
  const m = Number(contract.multiplier);
  return Number.isFinite(m) && m > 0 ? m : 1;
}

export class AccountBook {
  readonly accounts = new Map<string, Account>();

  constructor(
    private readonly market: MarketModel,
    private readonly universe: Universe,
  ) {}

  add(id: string, cash: number, currency = "USD"): Account {
    const account: Account = { id, currency, cash, startCash: cash, positions: new Map(), realizedPnl: 0 };
    this.accounts.set(id, account);
    return account;
  }

  get ids(): string[] {
    return [...this.accounts.keys()];
  }

  get(id: string): Account | undefined {
    return this.accounts.get(id);
  }

  /** Seeds a position (scenario); does not touch cash. */
  setPosition(accountId: string, instrument: Instrument, quantity: number, avgCost: number): void {
    const account = this.mustGet(accountId);
    account.positions.set(instrument.details.contract.conId, {
      instrument,
      quantity,
      avgCost,
      realizedPnl: 0,
    });
  }

  private mustGet(id: string): Account {
    const account = this.accounts.get(id);
    if (!account) throw new Error(`unknown account ${id}`);
    return account;
  }

  /** Converts an amount in `currency` into USD at the simulated rate. */
  toUsd(amount: number, currency: string): number {
    if (currency === "USD") return amount;
    const direct = this.universe.get(`${currency}.USD`);
    if (direct) return amount * this.market.quote(direct.details.contract.conId).last;
    const inverse = this.universe.get(`USD.${currency}`);
    if (inverse) return amount / this.market.quote(inverse.details.contract.conId).last;
    return amount;
  }

  /**
   * Books a fill. Returns the realized P&L of the fill (undefined when it only opened or added),
   * as IB reports it in the commission report.
   */
  applyFill(
    accountId: string,
    instrument: Instrument,
    side: "BUY" | "SELL",
    quantity: number,
    price: number,
    commission: number,
  ): number | undefined {
    const account = this.mustGet(accountId);
    const contract = instrument.details.contract;
    const multiplier = multiplierOf(contract);
    const signed = side === "BUY" ? quantity : -quantity;
    const existing = account.positions.get(contract.conId);
    const oldQty = existing?.quantity ?? 0;
    const newQty = oldQty + signed;
    const costPerUnit = price * multiplier;
    const commissionPerUnit = commission / quantity;
    let realized: number | undefined;

    if (contract.secType === "CASH") {
      // Forex: base currency bought with the quote currency; the position is the base amount.
      account.cash -= this.toUsd(signed * price, contract.currency) + commission;
    } else {
      account.cash -= this.toUsd(signed * costPerUnit, contract.currency) + commission;
    }

    if (oldQty === 0 || Math.sign(oldQty) === Math.sign(signed)) {
      // Opening or adding: blend the average cost.
      const totalCost =
        (existing?.avgCost ?? 0) * Math.abs(oldQty) + (costPerUnit + commissionPerUnit) * quantity;
      const avgCost = totalCost / Math.abs(newQty);
      this.store(account, instrument, newQty, avgCost, existing?.realizedPnl ?? 0);
    } else {
      // Reducing, closing or flipping: realize P&L on the closed part.
      const closed = Math.min(Math.abs(oldQty), quantity);
      const avgCost = existing?.avgCost ?? 0;
      const direction = Math.sign(oldQty);
      realized = this.toUsd(
        direction * closed * (costPerUnit - avgCost) - commissionPerUnit * closed,
        contract.currency,
      );
      account.realizedPnl += realized;
      const keepCost =
        Math.abs(newQty) > 0 && Math.sign(newQty) !== direction ? costPerUnit + commissionPerUnit : avgCost;
      this.store(account, instrument, newQty, keepCost, (existing?.realizedPnl ?? 0) + realized);
    }
    return realized;
  }

  private store(
    account: Account,
    instrument: Instrument,
    quantity: number,
    avgCost: number,
    realized: number,
  ) {
    const conId = instrument.details.contract.conId;
    // Keep a closed position (quantity 0) so TWS-style updates can report it going flat.
    account.positions.set(conId, {
      instrument,
      quantity: roundQty(quantity),
      avgCost,
      realizedPnl: realized,
    });
  }

  positionData(account: Account, position: Position): PositionData {
    return {
      account: account.id,
      contract: position.instrument.details.contract,
      position: position.quantity,
      avgCost: position.avgCost,
    };
  }

  /** Every position of every account, as reqPositions lists them (open ones only). */
  allPositions(): PositionData[] {
    const out: PositionData[] = [];
    for (const account of this.accounts.values()) {
      for (const position of account.positions.values()) {
        if (position.quantity !== 0) out.push(this.positionData(account, position));
      }
    }
    return out;
  }

  valuePosition(position: Position): PositionValue {
    const contract = position.instrument.details.contract;
    const quote = this.market.quote(contract.conId);
    const multiplier = multiplierOf(contract);
    const scale = contract.secType === "CASH" ? 1 : multiplier;
    const marketValueLocal = position.quantity * quote.last * scale;
    const marketValue = this.toUsd(marketValueLocal, contract.currency);
    const costBasis = this.toUsd(position.quantity * position.avgCost, contract.currency);
    const dailyPnl = this.toUsd(position.quantity * (quote.last - quote.close) * scale, contract.currency);
    return {
      position,
      marketPrice: quote.last,
      marketValue,
      unrealizedPnl: marketValue - costBasis,
      dailyPnl,
    };
  }

  portfolioData(account: Account, value: PositionValue): PortfolioData {
    return {
      contract: value.position.instrument.details.contract,
      position: value.position.quantity,
      marketPrice: value.marketPrice,
      marketValue: round2(value.marketValue),
      averageCost: value.position.avgCost,
      unrealizedPnl: round2(value.unrealizedPnl),
      realizedPnl: round2(value.position.realizedPnl),
      account: account.id,
    };
  }

  values(account: Account): AccountValues {
    const positions = [...account.positions.values()].map((p) => this.valuePosition(p));
    let gross = 0;
    let netPositionValue = 0;
    let unrealized = 0;
    let daily = account.realizedPnl;
    let initMargin = 0;
    let maintMargin = 0;
    for (const v of positions) {
      const secType = v.position.instrument.details.contract.secType;
      const notional = Math.abs(v.marketValue);
      gross += notional;
      // Futures carry no market value in equity, only their P&L; cash pairs are currency, counted below.
      if (secType !== "FUT") netPositionValue += v.marketValue;
      unrealized += v.unrealizedPnl;
      daily += v.dailyPnl;
      initMargin += notional * (INIT_MARGIN[secType] ?? 0.3);
      maintMargin += notional * (MAINT_MARGIN[secType] ?? 0.3);
    }
    const futuresPnl = positions
      .filter((v) => v.position.instrument.details.contract.secType === "FUT")
      .reduce((sum, v) => sum + v.unrealizedPnl, 0);
    const netLiquidation = account.cash + netPositionValue + futuresPnl;
    const availableFunds = netLiquidation - initMargin;
    return {
      netLiquidation,
      totalCash: account.cash,
      grossPositionValue: gross,
      unrealizedPnl: unrealized,
      realizedPnl: account.realizedPnl,
      dailyPnl: daily,
      initMargin,
      maintMargin,
      availableFunds,
      excessLiquidity: netLiquidation - maintMargin,
      buyingPower: Math.max(0, availableFunds * 4),
      positions,
    };
  }

  /** Account values as TWS names them, for reqAccountSummary and reqAccountUpdates. */
  tagValues(account: Account): Array<{ tag: string; value: string; currency: string }> {
    const v = this.values(account);
    const money = (tag: string, n: number) => ({ tag, value: n.toFixed(2), currency: account.currency });
    return [
      { tag: "AccountType", value: "INDIVIDUAL", currency: "" },
      money("NetLiquidation", v.netLiquidation),
      money("TotalCashValue", v.totalCash),
      money("SettledCash", v.totalCash),
      money("AccruedCash", 0),
      money("BuyingPower", v.buyingPower),
      money("EquityWithLoanValue", v.netLiquidation),
      money("PreviousDayEquityWithLoanValue", v.netLiquidation - v.dailyPnl),
      money("GrossPositionValue", v.grossPositionValue),
      money("RegTEquity", v.netLiquidation),
      money("RegTMargin", v.initMargin),
      money("SMA", Math.max(0, v.availableFunds)),
      money("InitMarginReq", v.initMargin),
      money("MaintMarginReq", v.maintMargin),
      money("AvailableFunds", v.availableFunds),
      money("ExcessLiquidity", v.excessLiquidity),
      {
        tag: "Cushion",
        value: (v.netLiquidation > 0 ? v.excessLiquidity / v.netLiquidation : 0).toFixed(6),
        currency: "",
      },
      money("FullInitMarginReq", v.initMargin),
      money("FullMaintMarginReq", v.maintMargin),
      money("FullAvailableFunds", v.availableFunds),
      money("FullExcessLiquidity", v.excessLiquidity),
      money("LookAheadInitMarginReq", v.initMargin),
      money("LookAheadMaintMarginReq", v.maintMargin),
      money("LookAheadAvailableFunds", v.availableFunds),
      money("LookAheadExcessLiquidity", v.excessLiquidity),
      { tag: "HighestSeverity", value: "0", currency: "" },
      { tag: "DayTradesRemaining", value: "-1", currency: "" },
      {
        tag: "Leverage",
        value: (v.netLiquidation > 0 ? v.grossPositionValue / v.netLiquidation : 0).toFixed(2),
        currency: "",
      },
      money("UnrealizedPnL", v.unrealizedPnl),
      money("RealizedPnL", v.realizedPnl),
    ];
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Quantities are decimals at IB; drop binary noise from repeated partial fills. */
function roundQty(n: number): number {
  return Math.round(n * 1e8) / 1e8;
}
