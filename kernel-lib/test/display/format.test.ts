/** Cell formatting: grouping, signs, IB's unset values, days and instants, HTML escaping. */
import { describe, expect, it } from "vitest";
import { escapeHtml, formatValue, HTML_FORMAT, toNumber } from "../../src/display/format";

describe("numbers", () => {
  it("groups thousands and fixes decimals by kind", () => {
    expect(formatValue(1234567.891, "money")).toBe("1,234,567.89");
    expect(formatValue(1234567, "integer")).toBe("1,234,567");
    expect(formatValue(231.5, "price")).toBe("231.50");
    expect(formatValue(1.08115, "price")).toBe("1.0812");
    expect(formatValue(50000, "quantity")).toBe("50,000");
    expect(formatValue(0.125, "quantity")).toBe("0.125");
    expect(formatValue(0.1234, "percent")).toBe("12.34%");
  });

  it("never groups ids", () => {
    expect(formatValue(1001, "id")).toBe("1001");
    expect(formatValue(265598, "id")).toBe("265598");
  });

  it("signs P&L with + and a minus, U+2212 in HTML and ASCII in text", () => {
    expect(formatValue(1234.5, "signedMoney")).toBe("+1,234.50");
    expect(formatValue(-1234.5, "signedMoney")).toBe("-1,234.50");
    expect(formatValue(-1234.5, "signedMoney", HTML_FORMAT)).toBe("−1,234.50");
    expect(formatValue(-250, "quantity", HTML_FORMAT)).toBe("−250");
    expect(formatValue(0.0123, "signedPercent")).toBe("+1.23%");
  });

  it("gives zero no sign, even when rounding makes it zero", () => {
    expect(formatValue(0, "signedMoney")).toBe("0.00");
    expect(formatValue(-0.001, "signedMoney")).toBe("0.00");
  });

  it("blanks IB's unset values and missing ones", () => {
    expect(formatValue(Number.MAX_VALUE, "money")).toBe("");
    expect(formatValue(Number.POSITIVE_INFINITY, "price")).toBe("");
    expect(formatValue(Number.NaN, "price")).toBe("");
    expect(formatValue(undefined, "money")).toBe("");
    expect(formatValue(null, "text")).toBe("");
    expect(toNumber(Number.MAX_VALUE)).toBeUndefined();
  });

  it("reads numeric strings (account values) and shows other strings as they are", () => {
    expect(formatValue("184250.35", "money")).toBe("184,250.35");
    expect(formatValue("INDIVIDUAL", "money")).toBe("INDIVIDUAL");
    expect(toNumber(" ")).toBeUndefined();
  });
});

describe("dates", () => {
  it("reads a day in UTC (the library stores days as UTC midnight)", () => {
    expect(formatValue(new Date(Date.UTC(2026, 10, 24)), "date")).toBe("2026-11-24");
  });

  it("shows an instant in local time", () => {
    const d = new Date(2026, 10, 24, 9, 5, 7);
    expect(formatValue(d, "datetime")).toBe("2026-11-24 09:05:07");
    expect(formatValue(new Date(Number.NaN), "datetime")).toBe("");
  });
});

describe("escapeHtml", () => {
  it("escapes markup and both quotes", () => {
    expect(escapeHtml(`<img src=x onerror="alert('x')">&`)).toBe(
      "&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;",
    );
  });
});
