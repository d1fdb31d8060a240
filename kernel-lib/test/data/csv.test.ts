/**
 * CSV and records at unit level: hostile strings (commas, quotes, line breaks in symbols and error
 * texts) quoted as RFC 4180 says, the file form, and the cell rules (IB's "no value" as null, numeric
 * text in value columns as numbers, Dates kept).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { csvField } from "../../src/display/data";
import {
  asAccountSummary,
  asFills,
  asOpenOrders,
  asPositions,
  asTable,
  asWhatIf,
} from "../../src/display/results";
import { InvalidArgumentError } from "../../src/errors";
import type { WhatIfResult } from "../../src/ib";
import type { Fill, OrderRecord, Position } from "../../src/state/types";
import { parseCsv } from "./helpers";

const HOSTILE = 'A,"B"\nC';

const position = (symbol: string, quantity: number, avgCost: number, account = "DU1"): Position => ({
  account,
  symbol,
  secType: "STK",
  localSymbol: symbol,
  currency: "USD",
  quantity,
  avgCost,
  contract: { symbol },
});

const order = (overrides: Partial<OrderRecord>): OrderRecord => ({
  orderId: 7,
  clientId: 2,
  permId: 1001,
  account: "DU1",
  symbol: "AAPL",
  secType: "STK",
  action: "BUY",
  quantity: 10,
  orderType: "LMT",
  lmtPrice: 190,
  auxPrice: undefined,
  tif: "DAY",
  status: "Submitted",
  filled: 0,
  remaining: 10,
  avgFillPrice: 0,
  lastFillPrice: 0,
  whyHeld: "",
  updatedAt: new Date(),
  contract: { symbol: "AAPL" },
  ...overrides,
});

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("CSV quoting (RFC 4180)", () => {
  it("a field with a comma, a quote or a line break is quoted, its quotes doubled", () => {
    expect(csvField("AAPL")).toBe("AAPL");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("one\ntwo")).toBe('"one\ntwo"');
    expect(csvField("one\r\ntwo")).toBe('"one\r\ntwo"');
    expect(csvField(HOSTILE)).toBe('"A,""B""\nC"');
    expect(csvField(" padded ")).toBe(" padded "); // spaces are part of a field
  });

  it("a hostile symbol survives a round trip; lines end with CRLF, the last one too", () => {
    const positions = asPositions([position(HOSTILE, 10, 1.5), position("KO", -3, 60)]);
    const csv = positions.toCSV();
    // One account: no Account column; local symbols equal to the symbols: no Local symbol column.
    expect(csv.startsWith("Symbol,Type,Quantity,Avg cost,Cost basis,Currency\r\n")).toBe(true);
    expect(csv).toContain('\r\n"A,""B""\nC",STK,');
    expect(csv.endsWith("\r\n")).toBe(true);
    const rows = parseCsv(csv);
    expect(rows).toEqual([
      ["Symbol", "Type", "Quantity", "Avg cost", "Cost basis", "Currency"],
      [HOSTILE, "STK", "10", "1.5", "15", "USD"],
      ["KO", "STK", "-3", "60", "-180", "USD"],
    ]);
    expect(positions.toRecords()[0]?.Symbol).toBe(HOSTILE); // records keep the text as it is
  });

  it("error texts and IB's hold reasons with commas, quotes and line breaks", () => {
    const why = 'locate, "short" stock\r\nnot available';
    const orders = asOpenOrders([order({ whyHeld: why, symbol: HOSTILE })]);
    const rows = parseCsv(orders.toCSV());
    const header = rows[0] as string[];
    const row = rows[1] as string[];
    expect(row[header.indexOf("Why held")]).toBe(why);
    expect(row[header.indexOf("Symbol")]).toBe(HOSTILE);

    const result: WhatIfResult = {
      initMarginChange: 1000,
      maintMarginChange: 800,
      equityWithLoanChange: -1.5,
      commission: 1.01,
      commissionCurrency: "USD",
      warningText: "unused",
    } as WhatIfResult;
    const what = asWhatIf(result, 'BUY 10 "A,B"');
    const parsed = parseCsv(what.toCSV());
    expect(parsed[0]).toEqual([
      "Initial margin change",
      "Maintenance margin change",
      "Equity with loan change",
      "Commission",
      "Commission currency",
    ]);
    expect(parsed[1]).toEqual(["1000", "800", "-1.5", "1.01", "USD"]);

    const errors = asTable(
      [
        { code: 201, text: 'Order rejected - reason: "price, not on the tick grid"\nsee the rules' },
        { code: 2104, text: "Market data farm connection is OK:usfarm" },
      ],
      [
        { key: "code", header: "Code", kind: "id" },
        { key: "text", header: "Error, text" },
      ],
    );
    expect(parseCsv(errors.toCSV())).toEqual([
      ["Code", "Error, text"],
      ["201", 'Order rejected - reason: "price, not on the tick grid"\nsee the rules'],
      ["2104", "Market data farm connection is OK:usfarm"],
    ]);
    expect(errors.toCSV().split("\r\n")[0]).toBe('Code,"Error, text"');
  });

  it("times in ISO 8601: instants in UTC with milliseconds", () => {
    const time = new Date(Date.UTC(2026, 10, 24, 14, 30, 5, 123));
    const fill: Fill = {
      execId: "0001f4e8.6744a0b2.01.01",
      orderId: 7,
      permId: 1001,
      clientId: 2,
      account: "DU1",
      symbol: "AAPL",
      secType: "STK",
      side: "BUY",
      quantity: 0.5,
      price: 231.5,
      cumQuantity: 0.5,
      time,
      exchange: "ISLAND",
      commission: undefined,
      commissionCurrency: undefined,
      realizedPnl: undefined,
      contract: { symbol: "AAPL" },
    };
    const fills = asFills([fill]);
    const [header, row] = parseCsv(fills.toCSV()) as [string[], string[]];
    expect(row[header.indexOf("Time")]).toBe("2026-11-24T14:30:05.123Z");
    expect(row[header.indexOf("Quantity")]).toBe("0.5");
    expect(row[header.indexOf("Commission")]).toBe(""); // not reported yet: blank, null in records
    expect(fills.toRecords()[0]?.Commission).toBeNull();
    expect(fills.toRecords()[0]?.Time).toEqual(time);
  });

  it("toCSV(path) writes the file (UTF-8) and returns its absolute path", () => {
    const dir = mkdtempSync(join(tmpdir(), "ibkr-csv-"));
    dirs.push(dir);
    const positions = asPositions([position(HOSTILE, 10, 1.5), position("Ünïcødé €", 1, 2)]);
    const path = join(dir, "positions.csv");
    expect(positions.toCSV(path)).toBe(path);
    expect(readFileSync(path, "utf8")).toBe(positions.toCSV());
    // A relative path is taken from the working directory (the notebook's folder in tslab).
    const relativePath = relative(process.cwd(), join(dir, "again.csv"));
    expect(positions.toCSV(relativePath)).toBe(join(dir, "again.csv"));
    expect(() => positions.toCSV("" as string)).toThrow(InvalidArgumentError);
    expect(() => positions.toCSV(42 as unknown as string)).toThrow(/path: must be a file path/);
  });
});

describe("records", () => {
  it("IB's 'no value' (Double.MAX, Infinity), NaN and blanks are null; numeric text in value columns is a number", () => {
    const orders = asOpenOrders([order({ lmtPrice: Number.MAX_VALUE, auxPrice: 1.7976931348623157e308 })]);
    const record = orders.toRecords()[0] ?? {};
    expect(record.Limit ?? "absent").toBe("absent"); // no row has a limit: the table leaves the column out
    const rows = asTable(
      [
        { a: Number.MAX_VALUE, b: "12.5", c: "INDIVIDUAL", d: Number.NaN, e: "", f: new Date(Number.NaN) },
        { a: 1, b: " ", c: "3", d: -0.25, e: "x", f: new Date(0) },
      ],
      [
        { key: "a", header: "A", kind: "money" },
        { key: "b", header: "B", kind: "quantity" },
        { key: "c", header: "C", kind: "money" },
        { key: "d", header: "D", kind: "percent" },
        { key: "e", header: "E" },
        { key: "f", header: "F", kind: "datetime" },
      ],
    );
    expect(rows.toRecords()).toEqual([
      { A: null, B: 12.5, C: "INDIVIDUAL", D: null, E: "", F: null },
      { A: 1, B: null, C: 3, D: -0.25, E: "x", F: new Date(0) },
    ]);
    expect(parseCsv(rows.toCSV())).toEqual([
      ["A", "B", "C", "D", "E", "F"],
      ["", "12.5", "INDIVIDUAL", "", "", ""],
      ["1", "", "3", "-0.25", "x", "1970-01-01T00:00:00.000Z"],
    ]);
  });

  it("account values: IB's strings become numbers where they are numbers", () => {
    const summary = asAccountSummary([
      { account: "DU1", tag: "NetLiquidation", value: "1000.25", currency: "USD" },
      { account: "DU1", tag: "AccountType", value: "INDIVIDUAL", currency: "" },
    ]);
    expect(summary.toRecords()).toEqual([
      { Tag: "NetLiquidation", Value: 1000.25, Currency: "USD" },
      { Tag: "AccountType", Value: "INDIVIDUAL", Currency: "" },
    ]);
  });

  it("the result stays its plain data: JSON, keys and spreading see no conversions", () => {
    const positions = asPositions([position("AAPL", 1, 2)]);
    expect(Object.keys(positions)).toEqual(["0"]);
    expect(JSON.stringify(positions)).toBe(JSON.stringify([position("AAPL", 1, 2)]));
    const enumerated: string[] = [];
    for (const key in positions) enumerated.push(key);
    expect(enumerated).toEqual(["0"]);
    for (const name of ["toRecords", "toCSV", "toDataFrame", "toHTML", "toText"]) {
      expect(typeof (positions as unknown as Record<string, unknown>)[name]).toBe("function");
    }
    // Records are new objects on each call: changing one leaves the result and the next call alone.
    const first = positions.toRecords();
    (first[0] as Record<string, unknown>).Symbol = "changed";
    expect(positions.toRecords()[0]?.Symbol).toBe("AAPL");
    expect(positions[0]?.symbol).toBe("AAPL");
  });

  it("duplicate headers get a suffix, so no column is lost", () => {
    const rows = asTable(
      [{ a: 1, b: 2 }],
      [
        { key: "a", header: "Value" },
        { key: "b", header: "Value" },
      ],
    );
    expect(rows.toRecords()).toEqual([{ Value: 1, Value_2: 2 }]);
  });

  it("any header is a key, even one a JavaScript object literal would read as code or a prototype", () => {
    const headers = ["__proto__", '"}; throw 1; ({"', "constructor", "2024", "a\nb"];
    const rows = asTable(
      [{ v: 1 }],
      headers.map((header, i) => ({ header, value: () => i })),
    );
    const [record] = rows.toRecords();
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(Object.hasOwn(record ?? {}, "__proto__")).toBe(true);
    for (const [i, header] of headers.entries())
      expect(Object.getOwnPropertyDescriptor(record, header)?.value).toBe(i);
    expect(parseCsv(rows.toCSV())[0]).toEqual(headers);
  });
});
