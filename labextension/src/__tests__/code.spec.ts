import { copyToClipboard, notebookCancelCode, positionCode } from "../code";
import type { FeedPosition } from "../payload";
import { order, position } from "./fixtures";

/** Runs copied code against a fake `ib`, as a cell would: returns what ib.contract received. */
async function contractArgument(code: string): Promise<unknown> {
  const calls: unknown[] = [];
  const ib = { contract: async (input: unknown) => calls.push(input) };
  const sideEffects = { touched: false };
  // Nothing else is in scope: a payload that escaped its string would throw or touch `sideEffects`.
  const run = new Function("ib", "sideEffects", `return (async () => { ${code}; })();`) as (
    ib: unknown,
    effects: unknown,
  ) => Promise<void>;
  await run(ib, sideEffects);
  expect(sideEffects.touched).toBe(false);
  expect(calls).toHaveLength(1);
  return calls[0];
}

describe("positionCode", () => {
  it("names a US stock by its symbol", async () => {
    expect(positionCode(position())).toBe('await ib.contract("AAPL")');
    expect(positionCode(position({ symbol: "BRK B", localSymbol: "BRK B" }))).toBe(
      'await ib.contract("BRK B")',
    );
    expect(await contractArgument(positionCode(position()))).toBe("AAPL");
  });

  it("names a forex pair as the library spells it", () => {
    expect(
      positionCode(position({ symbol: "EUR", localSymbol: "EUR.USD", secType: "CASH", currency: "USD" })),
    ).toBe('await ib.contract("EUR.USD")');
  });

  it("names anything else by conId", async () => {
    const future = position({ symbol: "ES", localSymbol: "ESZ6", secType: "FUT", conId: 495512563 });
    expect(positionCode(future)).toBe("await ib.contract({ conId: 495512563 })");
    expect(positionCode(position({ currency: "EUR", conId: 14094 }))).toBe(
      "await ib.contract({ conId: 14094 })",
    );
    // A stock spelled like a forex pair would be read as one: by conId instead.
    expect(positionCode(position({ symbol: "ABC.DEF", conId: 7 }))).toBe("await ib.contract({ conId: 7 })");
    expect(await contractArgument(positionCode(future))).toEqual({ conId: 495512563 });
  });

  it.each([
    '"); sideEffects.touched = true; ("',
    'AAPL"); sideEffects.touched = true; //',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal injection, on purpose
    "`${sideEffects.touched = true}`",
    "AAPL\\",
    "x\n sideEffects.touched = true",
    "\u2028sideEffects.touched = true",
    "</script><img src=x onerror=alert(1)>",
  ])("keeps a hostile symbol one string literal: %j", async (symbol) => {
    // With a conId, the symbol does not reach the code at all.
    const stock = positionCode(position({ symbol, localSymbol: symbol }));
    expect(stock).toBe("await ib.contract({ conId: 265598 })");
    // Without one, it does, as a JSON string.
    for (const p of [
      position({ symbol, localSymbol: symbol, conId: 0 }),
      position({ symbol, localSymbol: symbol, secType: "OPT", conId: 0 }),
      position({ symbol, localSymbol: `${symbol}!`, secType: "CASH", currency: symbol, conId: -1 }),
    ]) {
      expect(await contractArgument(positionCode(p))).toMatchObject({ symbol, secType: p.secType });
    }
  });

  it("never writes a conId that is not a positive safe integer", async () => {
    for (const conId of [0, -5, 1.5, 2 ** 60]) {
      const p: FeedPosition = position({ secType: "FUT", symbol: "ES", localSymbol: "ESZ6", conId });
      expect(positionCode(p)).not.toContain("conId");
      expect(await contractArgument(positionCode(p))).toEqual({
        symbol: "ES",
        secType: "FUT",
        currency: "USD",
        localSymbol: "ESZ6",
      });
    }
  });
});

describe("notebookCancelCode", () => {
  it("writes a whole order id, and nothing for anything else", () => {
    expect(notebookCancelCode(order({ orderId: 11 }))).toBe("await ib.cancelOrder(11)");
    expect(notebookCancelCode(order({ orderId: 0 }))).toBeNull();
    expect(notebookCancelCode(order({ orderId: 1.5 }))).toBeNull();
  });
});

describe("copyToClipboard", () => {
  const original = Object.getOwnPropertyDescriptor(navigator, "clipboard");
  afterEach(() => {
    if (original) Object.defineProperty(navigator, "clipboard", original);
    else delete (navigator as { clipboard?: unknown }).clipboard;
    delete (document as { execCommand?: unknown }).execCommand;
  });

  it("uses the Clipboard API", async () => {
    const writeText = jest.fn(async () => undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    expect(await copyToClipboard('await ib.contract("AAPL")')).toBe(true);
    expect(writeText).toHaveBeenCalledWith('await ib.contract("AAPL")');
  });

  it("falls back to a selected textarea and execCommand when the API refuses", async () => {
    Object.defineProperty(navigator, "clipboard", {
      value: { writeText: jest.fn(async () => Promise.reject(new Error("not allowed"))) },
      configurable: true,
    });
    let copied = "";
    (document as { execCommand?: unknown }).execCommand = jest.fn((command: string) => {
      const area = document.querySelector("textarea");
      copied = command === "copy" && area ? area.value : "";
      return true;
    });
    expect(await copyToClipboard("await ib.contract({ conId: 1 })")).toBe(true);
    expect(copied).toBe("await ib.contract({ conId: 1 })");
    expect(document.querySelector("textarea")).toBeNull(); // cleaned up
  });

  it("says so when there is no way to copy", async () => {
    expect(await copyToClipboard("x")).toBe(false);
  });
});
