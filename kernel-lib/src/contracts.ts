/**
 * What a user may type for an instrument, turned into an IB contract: "AAPL" (a US stock on SMART),
 * "EUR.USD" (a forex pair on IDEALPRO), or a contract object (passed through, checked).
 */
import { type Contract, SecType } from "@stoqey/ib";
import { describe } from "./connection/options";
import { InvalidArgumentError } from "./errors";

export type ContractInput = string | Contract;

const SEC_TYPES = new Set(Object.values(SecType) as string[]);
const FOREX_PAIR = /^([A-Z]{3})\.([A-Z]{3})$/;
const SYMBOL = /^[A-Z0-9][A-Z0-9 .\-/]{0,20}$/;

/** Builds the contract a request sends; throws InvalidArgumentError naming `field` on bad input. */
export function toContract(input: ContractInput, field = "contract"): Contract {
  if (typeof input === "string") {
    const text = input.trim().toUpperCase();
    const pair = FOREX_PAIR.exec(text);
    if (pair) return { symbol: pair[1], currency: pair[2], secType: SecType.CASH, exchange: "IDEALPRO" };
    if (!SYMBOL.test(text)) {
      throw new InvalidArgumentError(
        field,
        `${describe(input)} is not a symbol`,
        'Pass a symbol such as "AAPL", a forex pair such as "EUR.USD", or a contract object { symbol, secType, exchange, currency }.',
      );
    }
    return { symbol: text, secType: SecType.STK, exchange: "SMART", currency: "USD" };
  }
  if (typeof input !== "object" || input === null) {
    throw new InvalidArgumentError(
      field,
      `must be a symbol or a contract, got ${describe(input)}`,
      'Pass "AAPL" or { symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" }.',
    );
  }
  if (input.conId === undefined && (typeof input.symbol !== "string" || input.symbol.trim() === "")) {
    throw new InvalidArgumentError(
      `${field}.symbol`,
      "is missing",
      "Give the contract a symbol, or a conId.",
    );
  }
  if (input.secType !== undefined && !SEC_TYPES.has(String(input.secType))) {
    throw new InvalidArgumentError(
      `${field}.secType`,
      `${describe(input.secType)} is not an IB security type`,
      `Use one of ${[...SEC_TYPES].join(", ")}.`,
    );
  }
  if (input.conId !== undefined && (!Number.isInteger(input.conId) || input.conId <= 0)) {
    throw new InvalidArgumentError(
      `${field}.conId`,
      `must be a positive whole number, got ${describe(input.conId)}`,
      "Use the conId from ib.contract(…), or leave it out.",
    );
  }
  return { exchange: "SMART", currency: "USD", ...input };
}

/** A short label for messages: "AAPL", "EUR.USD", "ESH7". */
export function contractLabel(contract: Contract): string {
  if (contract.localSymbol) return contract.localSymbol;
  if (contract.secType === SecType.CASH) return `${contract.symbol}.${contract.currency}`;
  return contract.symbol ?? `conId ${contract.conId}`;
}
