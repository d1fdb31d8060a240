/**
 * Code the panels hand to the user ("copy as code") and the clipboard. Every value taken from a
 * payload reaches the code as a JSON literal (strings) or as a checked integer: a symbol that contains
 * quotes, a newline or a `); process.exit(` stays one string argument.
 */
import type { FeedOrder, FeedPosition } from "./payload";

/** The library's own symbol pattern (kernel-lib/src/contracts.ts): what `ib.contract("…")` accepts. */
const PLAIN_SYMBOL = /^[A-Z0-9][A-Z0-9 .\-/]{0,20}$/;
const CURRENCY = /^[A-Z]{3}$/;
/** The library reads "ABC.DEF" as a forex pair, so a stock spelled that way goes by conId. */
const FOREX_PAIR = /^[A-Z]{3}\.[A-Z]{3}$/;

/** A positive whole number that survives the trip into code text unchanged. */
export function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

/**
 * The cell code that gets a position's contract:
 * - a US stock by its symbol, `await ib.contract("AAPL")` (the library reads a bare symbol as a USD
 *   stock on SMART);
 * - a forex pair as `await ib.contract("EUR.USD")`;
 * - anything else by its conId, `await ib.contract({ conId: 495512563 })`, which names exactly one;
 * - with no usable conId, the position's own fields as a contract object.
 */
export function positionCode(position: FeedPosition): string {
  const { symbol, secType, currency, conId } = position;
  if (secType === "STK" && currency === "USD" && PLAIN_SYMBOL.test(symbol) && !FOREX_PAIR.test(symbol)) {
    return `await ib.contract(${JSON.stringify(symbol)})`;
  }
  if (secType === "CASH" && CURRENCY.test(symbol) && CURRENCY.test(currency)) {
    return `await ib.contract(${JSON.stringify(`${symbol}.${currency}`)})`;
  }
  if (isId(conId)) return `await ib.contract({ conId: ${conId} })`;
  const contract: Record<string, string> = { symbol, secType, currency };
  if (position.localSymbol && position.localSymbol !== symbol) contract.localSymbol = position.localSymbol;
  return `await ib.contract(${JSON.stringify(contract)})`;
}

/** What to run in the notebook that placed an order to cancel it; null for an id that is not one. */
export function notebookCancelCode(order: Pick<FeedOrder, "orderId">): string | null {
  return isId(order.orderId) ? `await ib.cancelOrder(${order.orderId})` : null;
}

/**
 * Puts text on the clipboard: the async Clipboard API where the page may use it, else the old
 * selection-and-execCommand way (http pages, older browsers). Resolves whether it worked.
 */
export async function copyToClipboard(text: string): Promise<boolean> {
  const clipboard = typeof navigator === "undefined" ? undefined : navigator.clipboard;
  if (clipboard && typeof clipboard.writeText === "function") {
    try {
      await clipboard.writeText(text);
      return true;
    } catch {
      // Permission refused or no secure context: try the fallback.
    }
  }
  if (typeof document === "undefined" || typeof document.execCommand !== "function") return false;
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  const focused = document.activeElement as HTMLElement | null;
  area.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  } finally {
    area.remove();
    focused?.focus();
  }
}
