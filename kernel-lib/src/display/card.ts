/**
 * Cards: one record shown as label/value rows under a heading, with an optional badge (the
 * connection's PAPER / LIVE / OFFLINE) and extra tables below (a trade's fills). Same formatting
 * rules as tables, in HTML and plain text.
 */
import { type ColumnKind, escapeHtml, formatValue, TEXT_FORMAT } from "./format";
import { outputHtml } from "./styles";
import { htmlCell } from "./table";

export interface Field {
  label: string;
  value: unknown;
  /** Default "text", which also suits ids in a card: values read best left-aligned under each other. */
  kind?: ColumnKind;
}

export type BadgeTone = "paper" | "live" | "offline";

export interface Card {
  title: string;
  badge?: { text: string; tone: BadgeTone };
  fields: readonly Field[];
  /** A line under the fields (a warning, what to do). */
  note?: string;
}

/** A section below the fields: its HTML (a table element) and its plain text. */
export interface CardSection {
  html: string;
  text: string;
}

const BLANK = "–";

function headHtml(card: Card): string {
  const badge = card.badge
    ? `<span class="ibkr-badge ${card.badge.tone}">${escapeHtml(card.badge.text)}</span>`
    : "";
  return `<div class="ibkr-head">${badge}<span>${escapeHtml(card.title)}</span></div>`;
}

function fieldRowHtml(field: Field): string {
  const kind = field.kind ?? "text";
  const blank = formatValue(field.value, kind) === "";
  const cell = blank ? `<td class="txt ibkr-note">${BLANK}</td>` : htmlCell(field.value, kind);
  return `<tr><th scope="row" class="txt">${escapeHtml(field.label)}</th>${cell}</tr>`;
}

/** The card as one self-contained HTML output. */
export function cardHtml(card: Card, sections: readonly CardSection[] = []): string {
  const rows = card.fields.map(fieldRowHtml).join("");
  const note = card.note ? `<div class="ibkr-note">${escapeHtml(card.note)}</div>` : "";
  const extra = sections.map((s) => `<div class="ibkr-section">${s.html}</div>`).join("");
  return outputHtml(
    `${headHtml(card)}<table class="ibkr-table"><tbody>${rows}</tbody></table>${note}${extra}`,
  );
}

/** The card as plain text: a heading line, then aligned "label  value" lines. */
export function cardText(card: Card, sections: readonly CardSection[] = []): string {
  const head = card.badge ? `[${card.badge.text}] ${card.title}` : card.title;
  const width = Math.max(0, ...card.fields.map((f) => f.label.length));
  const lines = card.fields.map((f) => {
    const value = formatValue(f.value, f.kind ?? "text", TEXT_FORMAT) || BLANK;
    return `  ${f.label.padEnd(width)}  ${value.replace(/\s*[\r\n]+\s*/g, " ")}`;
  });
  const note = card.note ? [`  ${card.note}`] : [];
  return [head, ...lines, ...note, ...sections.map((s) => s.text)].join("\n");
}
