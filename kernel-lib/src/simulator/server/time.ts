/** Times as TWS writes them. The simulator keeps its clock in UTC and says so. */

const pad = (n: number) => String(n).padStart(2, "0");

function parts(ms: number) {
  const d = new Date(ms);
  return {
    date: `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`,
    time: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
  };
}

/** The handshake's connection time: "yyyyMMdd HH:mm:ss <TZ>". */
export function connectionTime(ms: number): string {
  const p = parts(ms);
  return `${p.date} ${p.time} UTC`;
}

/** "HH:mm", as updateAccountTime carries it. */
export function accountTime(ms: number): string {
  return parts(ms).time.slice(0, 5);
}

/** A bar's time per reqHistoricalData's formatDate: 1 → text, 2 → epoch seconds; daily bars are dates. */
export function barTime(epochSeconds: number, formatDate: number, daily: boolean): string {
  if (formatDate === 2) return String(epochSeconds);
  const p = parts(epochSeconds * 1000);
  return daily ? p.date : `${p.date} ${p.time} UTC`;
}

/** "yyyyMMdd HH:mm:ss" of the historicalData start/end fields. */
export function rangeTime(ms: number): string {
  const p = parts(ms);
  return `${p.date} ${p.time} UTC`;
}

/**
 * Parses a client's time: "yyyyMMdd HH:mm:ss [TZ]", "yyyyMMdd-HH:mm:ss" (UTC), or "yyyyMMdd".
 * Zones other than UTC are read as UTC: the simulator's market has no local session.
 */
export function parseIbTime(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:[ -]+(\d{2}):(\d{2}):(\d{2}))?/.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0"] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}
