/**
 * What the data tests compare against: the headers an HTML table shows (read back from the HTML a
 * notebook gets), and an RFC 4180 reader written apart from the writer under test.
 */
import { expect } from "vitest";
import type { DataRecord } from "../../src/display/data";
import type { Displayable } from "../../src/display/results";

const ENTITIES: Readonly<Record<string, string>> = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&#39;": "'",
};

const unescapeHtml = (text: string) => text.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e] as string);

export interface HtmlHeader {
  name: string;
  /** A numeric column (right-aligned, sorted as numbers). */
  numeric: boolean;
}

/** The column headers of the (first) table in a result's HTML, in order. */
export function htmlHeaders(html: string): HtmlHeader[] {
  return [...html.matchAll(/<th scope="col" class="(num|txt)">(.*?)<\/th>/g)].map((m) => ({
    name: unescapeHtml(m[2] as string),
    numeric: m[1] === "num",
  }));
}

/** A card's field labels (the P&L card), in order. */
export function cardLabels(html: string): string[] {
  return [...html.matchAll(/<th scope="row" class="txt">(.*?)<\/th>/g)].map((m) =>
    unescapeHtml(m[1] as string),
  );
}

/** RFC 4180: fields split by commas, records by CRLF; quoted fields may hold both, `""` is a quote. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"' && field === "") {
      quoted = true;
      i++;
    } else if (c === ",") {
      record.push(field);
      field = "";
      i++;
    } else if (c === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i += 2;
    } else {
      // A bare quote, CR or LF outside quotes is not RFC 4180.
      expect(c === '"' || c === "\r" || c === "\n", `unquoted ${JSON.stringify(c)} at ${i}`).toBe(false);
      field += c;
      i++;
    }
  }
  expect(quoted, "an unterminated quoted field").toBe(false);
  expect(field === "" && record.length === 0, "the last record must end with CRLF").toBe(true);
  return records;
}

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The CSV text a record's value must have. */
function expectedCsv(value: unknown): string | RegExp {
  if (value === null) return "";
  if (value instanceof Date) return ISO_DATETIME;
  return String(value);
}

export type Result = Displayable & object;

export interface DataExpectations {
  /** Columns whose values are Dates. */
  dates?: readonly string[];
  /** Date columns of calendar days (CSV writes YYYY-MM-DD). */
  days?: readonly string[];
  /** The headers, when the HTML is a card rather than a table. */
  headers?: readonly string[];
  /** Rows, when the table is not one per item (the account summary: one per tag). */
  rows?: number;
}

/**
 * The checks every result type passes: records keyed by the HTML headers in order, numbers in numeric
 * columns, Dates in time columns; CSV with the same header, each cell written as the record holds it;
 * a dataframe with the same columns and rows; and the result itself still JSON-serialises as its plain
 * data. Returns the records for checks of the type's own.
 */
export async function expectData(result: Result, expected: DataExpectations = {}): Promise<DataRecord[]> {
  const shown = expected.headers
    ? expected.headers.map((name) => ({ name, numeric: false }))
    : htmlHeaders(result.toHTML());
  const names = shown.map((h) => h.name);
  expect(names.length).toBeGreaterThan(0);
  const dates = new Set(expected.dates ?? []);
  const days = new Set(expected.days ?? []);

  const records = result.toRecords();
  expect(records.length).toBe(expected.rows ?? (Array.isArray(result) ? result.length : 1));
  for (const record of records) {
    expect(Object.keys(record)).toEqual(names);
    for (const header of shown) {
      const value = record[header.name];
      if (value === null) continue;
      if (dates.has(header.name) || days.has(header.name)) {
        expect(value, header.name).toBeInstanceOf(Date);
        expect(Number.isNaN((value as Date).getTime())).toBe(false);
      } else if (header.numeric) {
        // IB's text values ("INDIVIDUAL") may sit in a value column; numeric text never does.
        if (typeof value === "string")
          expect(Number.isNaN(Number(value)), `${header.name}: "${value}"`).toBe(true);
        else expect(typeof value, header.name).toBe("number");
      } else {
        expect(value instanceof Date, `${header.name} holds a Date but is not a time column`).toBe(false);
      }
    }
  }
  // Plain JSON: times as ISO strings, nothing lost but the Date type.
  const json = JSON.parse(JSON.stringify(records)) as Array<Record<string, unknown>>;
  expect(json.map((r) => Object.keys(r))).toEqual(records.map(() => names));

  const csv = parseCsv(result.toCSV());
  expect(csv[0]).toEqual(names);
  expect(csv.length).toBe(records.length + 1);
  for (const [r, record] of records.entries()) {
    const line = csv[r + 1] as string[];
    for (const [c, name] of names.entries()) {
      const value = record[name];
      const want = days.has(name) && value instanceof Date ? ISO_DATE : expectedCsv(value);
      if (typeof want === "string") expect(line[c], `${name} in CSV line ${r + 1}`).toBe(want);
      else expect(line[c], `${name} in CSV line ${r + 1}`).toMatch(want);
    }
  }

  const df = await result.toDataFrame();
  expect(df.columnNames()).toEqual(names);
  expect(df.numRows()).toBe(records.length);
  expect(df.objects()).toEqual(records);

  // The result is still its plain data: the conversions are not enumerable.
  const plain = Array.isArray(result) ? [...result] : { ...result };
  expect(JSON.stringify(result)).toBe(JSON.stringify(plain));
  expect(Object.keys(result)).toEqual(Object.keys(plain));
  return records;
}
