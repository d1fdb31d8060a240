/**
 * The look of the library's HTML outputs: one stylesheet scoped to `.ibkr-nb`, shipped inside each
 * output so that it is self-contained (a saved notebook renders the same without the extension).
 * Colours come from JupyterLab's theme variables when present, so dark themes work, with light
 * fallbacks elsewhere. Selectors carry two classes so they win over JupyterLab's
 * `.jp-RenderedHTMLCommon td` (which right-aligns every cell).
 */

const STYLESHEET = `
.ibkr-nb{font-family:var(--jp-ui-font-family,system-ui,-apple-system,"Segoe UI",sans-serif);font-size:var(--jp-ui-font-size1,13px);color:var(--jp-ui-font-color1,inherit);margin:2px 0;line-height:1.4}
.ibkr-nb table.ibkr-table{border-collapse:collapse;border:none;margin:0;width:auto;table-layout:auto;font-size:inherit}
.ibkr-nb .ibkr-table caption{caption-side:top;text-align:left;font-weight:600;padding:0 0 4px}
.ibkr-nb .ibkr-table caption small,.ibkr-nb .ibkr-note{font-weight:400;color:var(--jp-ui-font-color2,#616161)}
.ibkr-nb .ibkr-table caption small{margin-left:.6em}
.ibkr-nb .ibkr-table th,.ibkr-nb .ibkr-table td{padding:3px 10px;border:none;border-bottom:1px solid var(--jp-border-color2,#e0e0e0);white-space:nowrap;vertical-align:baseline;background:none}
.ibkr-nb .ibkr-table thead th{font-weight:600;border-bottom:1px solid var(--jp-border-color1,#9e9e9e)}
.ibkr-nb .ibkr-table tbody tr:hover td,.ibkr-nb .ibkr-table tbody tr:hover th{background:var(--jp-layout-color2,#f2f2f2)}
.ibkr-nb .ibkr-table tfoot th,.ibkr-nb .ibkr-table tfoot td{font-weight:600;border-top:1px solid var(--jp-border-color1,#9e9e9e);border-bottom:none}
.ibkr-nb .ibkr-table .num{text-align:right;font-variant-numeric:tabular-nums}
.ibkr-nb .ibkr-table .txt{text-align:left}
.ibkr-nb .ibkr-table tbody th{font-weight:500}
.ibkr-nb .ibkr-table .more td{text-align:center;color:var(--jp-ui-font-color2,#616161)}
.ibkr-nb .ibkr-table .pos{color:var(--jp-success-color1,#1a7f37)}
.ibkr-nb .ibkr-table .neg{color:var(--jp-error-color1,#cf222e)}
.ibkr-nb .ibkr-table thead th.sortable{cursor:pointer;user-select:none}
.ibkr-nb .ibkr-table thead th[aria-sort=ascending]::after{content:" \\25B2";font-size:.75em}
.ibkr-nb .ibkr-table thead th[aria-sort=descending]::after{content:" \\25BC";font-size:.75em}
.ibkr-nb .ibkr-head{display:flex;gap:.6em;align-items:center;margin:0 0 4px;font-weight:600}
.ibkr-nb .ibkr-badge{display:inline-block;padding:1px 8px;border-radius:3px;font-size:.85em;font-weight:700;letter-spacing:.06em;color:#fff}
.ibkr-nb .ibkr-badge.paper{background:#0b6bcb}
.ibkr-nb .ibkr-badge.live{background:#c62828;box-shadow:0 0 0 2px #ffcdd2}
.ibkr-nb .ibkr-badge.offline{background:#757575}
.ibkr-nb .ibkr-section{margin-top:8px}
`.trim();

/**
 * Click a header to sort its column (again to reverse); Enter or Space on a focused header too.
 * Numeric cells carry their raw value in `data-v`; blanks sort last. It only enhances: where
 * scripts are stripped (untrusted outputs, GitHub, nbviewer) the rows keep the library's order.
 */
const SORT_SCRIPT = `(function(s){var d=s&&s.parentElement,t=d&&d.querySelector("table.ibkr-table");if(!t||!t.tHead||!t.tBodies[0])return;var b=t.tBodies[0],hs=t.tHead.rows[0].cells;function k(c){if(!c)return null;var v=c.getAttribute("data-v");if(v!==null)return v===""?null:Number(v);var x=c.textContent;return x===""?null:x}function cmp(x,y){if(x===null||y===null)return 0;return typeof x==="number"&&typeof y==="number"?x-y:String(x).localeCompare(String(y),undefined,{numeric:true})}Array.prototype.forEach.call(hs,function(h,i){h.classList.add("sortable");h.tabIndex=0;function sort(){var up=h.getAttribute("aria-sort")!=="ascending";Array.prototype.forEach.call(hs,function(o){o.removeAttribute("aria-sort")});h.setAttribute("aria-sort",up?"ascending":"descending");var rows=Array.prototype.slice.call(b.rows);rows.sort(function(p,q){var x=k(p.cells[i]),y=k(q.cells[i]);if(x===null||y===null)return (x===null)-(y===null);return up?cmp(x,y):cmp(y,x)});rows.forEach(function(r){b.appendChild(r)})}h.addEventListener("click",sort);h.addEventListener("keydown",function(e){if(e.key==="Enter"||e.key===" "){e.preventDefault();sort()}})})})(document.currentScript);`;

/** Wraps rendered content into one self-contained output: the scoped stylesheet, the content, and
 * (for a sortable table) the sorting script, which finds its table through `document.currentScript`. */
export function outputHtml(content: string, options: { sortable?: boolean } = {}): string {
  const script = options.sortable ? `<script>${SORT_SCRIPT}</script>` : "";
  return `<div class="ibkr-nb"><style>${STYLESHEET}</style>${content}${script}</div>`;
}
