/** Tables: HTML (escaped, aligned, signed, totals, sortable) and plain text from one column spec. */
import { describe, expect, it } from "vitest";
import { type Column, toHtml, toText } from "../../src/display/table";

interface Row {
  symbol: string;
  quantity: number;
  pnl: number | undefined;
  note?: string;
}

const COLUMNS: readonly Column<Row>[] = [
  { key: "symbol", header: "Symbol" },
  { key: "quantity", header: "Quantity", kind: "quantity" },
  { key: "pnl", header: "P&L", kind: "signedMoney", total: true },
  { key: "note", header: "Note", optional: true },
];

const ROWS: Row[] = [
  { symbol: "AAPL", quantity: 300, pnl: 13224.5 },
  { symbol: "KO", quantity: -250, pnl: -505.25 },
  { symbol: "EUR.USD", quantity: 50000, pnl: undefined },
];

const HOSTILE = `<script>alert("x")</script><img src=x onerror=alert(1)>&amp;'`;

/** The markup of the cells, without the stylesheet and the sorting script. */
function tableMarkup(html: string): string {
  return html.replace(/<style>[\s\S]*?<\/style>/, "").replace(/<script>[\s\S]*?<\/script>/, "");
}

describe("toHtml", () => {
  it("is self-contained: a stylesheet scoped by a class, around one table", () => {
    const html = toHtml(ROWS, COLUMNS);
    expect(html.startsWith('<div class="ibkr-nb"><style>')).toBe(true);
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? "";
    for (const rule of css.split("\n")) expect(rule.trim().startsWith(".ibkr-nb")).toBe(true);
    expect(css).toContain("font-variant-numeric:tabular-nums");
    expect(html.match(/<table/g)).toHaveLength(1);
  });

  it("right-aligns numbers, keeps their raw value for sorting, and left-aligns text", () => {
    const html = toHtml(ROWS, COLUMNS);
    expect(html).toContain('<th scope="col" class="num">Quantity</th>');
    expect(html).toContain('<td class="txt">AAPL</td>');
    expect(html).toContain('<td class="num" data-v="50000">50,000</td>');
    expect(html).toContain('<td class="num" data-v="-250">−250</td>');
  });

  it("signs and colours P&L", () => {
    const html = toHtml(ROWS, COLUMNS);
    expect(html).toContain('<td class="num pos" data-v="13224.5">+13,224.50</td>');
    expect(html).toContain('<td class="num neg" data-v="-505.25">−505.25</td>');
    expect(html).toContain('<td class="num" data-v=""></td>'); // unset: blank, no colour
  });

  it("colours by the sign shown: what rounds to zero is neither gain nor loss", () => {
    const html = toHtml([{ symbol: "MSFT", quantity: 1, pnl: 0.001 }], COLUMNS);
    expect(html).toContain('<td class="num" data-v="0.001">0.00</td>');
  });

  it("adds a totals row for the columns marked total", () => {
    const html = toHtml(ROWS, COLUMNS);
    expect(html).toContain('<tfoot><tr><th scope="row" class="txt">Total</th>');
    expect(html).toContain('<td class="num pos" data-v="12719.25">+12,719.25</td></tr></tfoot>');
    expect(toHtml(ROWS.slice(0, 1), COLUMNS)).not.toContain("<tfoot>");
    expect(toHtml(ROWS, COLUMNS, { totals: false })).not.toContain("<tfoot>");
  });

  it("leaves out an optional column no row fills, and shows it when one does", () => {
    expect(toHtml(ROWS, COLUMNS)).not.toContain(">Note<");
    expect(toHtml([...ROWS, { symbol: "X", quantity: 1, pnl: 0, note: "held" }], COLUMNS)).toContain(
      ">Note<",
    );
  });

  it("shows hostile strings literally: in cells, headers, title and caption", () => {
    const html = toHtml(
      [
        { symbol: HOSTILE, quantity: 1, pnl: 1, note: HOSTILE },
        { symbol: "AAPL", quantity: 2, pnl: 2 },
      ],
      [...COLUMNS, { header: HOSTILE, value: () => HOSTILE }],
      { title: HOSTILE, caption: HOSTILE },
    );
    const markup = tableMarkup(html);
    expect(markup).not.toMatch(/<script|<img|onerror=alert\(1\)>/);
    expect(markup).toContain(
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;&#39;",
    );
    // The only script is the library's own sorting script.
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  it("escapes a value that is not a string too", () => {
    const html = toHtml(
      [{ symbol: { toString: () => "<b>bold</b>" } as unknown as string, quantity: 1, pnl: 0 }],
      COLUMNS,
    );
    expect(tableMarkup(html)).toContain("&lt;b&gt;bold&lt;/b&gt;");
  });

  it("makes headers sortable with a script, and needs it for nothing else", () => {
    const html = toHtml(ROWS, COLUMNS);
    expect(html).toContain("document.currentScript");
    // Without scripts the rows are still there, in the order given.
    const markup = tableMarkup(html);
    expect(markup.indexOf("AAPL")).toBeLessThan(markup.indexOf("KO"));
    expect(toHtml(ROWS, COLUMNS, { sortable: false })).not.toContain("<script>");
    expect(toHtml(ROWS.slice(0, 1), COLUMNS)).not.toContain("<script>");
  });

  it("shows the first and last rows of a long table, totals over all of them, and no sorting", () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ symbol: `S${i}`, quantity: i, pnl: 1 }));
    const html = toHtml(many, COLUMNS);
    expect(html).toContain(">S0<");
    expect(html).toContain(">S499<");
    expect(html).not.toContain(">S250<");
    expect(html).toContain("… 480 more rows …");
    expect(html).toContain('data-v="500">+500.00');
    expect(html).not.toContain("<script>");
  });

  it("renders an empty table", () => {
    expect(toHtml([], COLUMNS, { title: "Positions" })).toContain("<tbody></tbody>");
  });
});

describe("toText", () => {
  it("aligns columns: text left, numbers right, with a rule and a totals line", () => {
    expect(toText(ROWS, COLUMNS, { title: "Positions", caption: "DU1" })).toBe(
      [
        "Positions · DU1",
        "Symbol   Quantity         P&L",
        "───────  ────────  ──────────",
        "AAPL          300  +13,224.50",
        "KO           -250     -505.25",
        "EUR.USD    50,000",
        "───────  ────────  ──────────",
        "Total              +12,719.25",
      ].join("\n"),
    );
  });

  it("says when there are no rows", () => {
    expect(toText([], COLUMNS)).toContain("(none)");
  });

  it("keeps each row on one line and clips long text", () => {
    const text = toText([{ symbol: `line one\nline two ${"x".repeat(100)}`, quantity: 1, pnl: 0 }], COLUMNS);
    const row = text.split("\n")[2] as string;
    expect(row.startsWith("line one line two")).toBe(true);
    expect(row).toContain("…");
    expect(text.split("\n")).toHaveLength(3);
  });
});
