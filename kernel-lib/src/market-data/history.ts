/**
 * Long historical downloads: IB caps how much history one request may cover for each bar size (its
 * "valid duration and bar size settings" table), so a year of 1-minute bars is many requests. This
 * plans them, newest first, each ending where the next one starts.
 */
import { InvalidArgumentError } from "../errors";
import { BAR_SECONDS, DURATION_UNIT_SECONDS } from "../util/ib-time-units";

const DAY = 86_400;

/** The longest duration IB serves in one request for a bar size (seconds). */
function maxRequestSeconds(barSeconds: number): number {
  if (barSeconds <= 1) return 1800;
  if (barSeconds <= 5) return 3600;
  if (barSeconds <= 15) return 14_400;
  if (barSeconds <= 30) return 28_800;
  if (barSeconds <= 60) return DAY;
  if (barSeconds <= 120) return 2 * DAY;
  if (barSeconds <= 1200) return 7 * DAY;
  if (barSeconds <= 28_800) return 30 * DAY;
  return Number.POSITIVE_INFINITY; // daily bars and up: years in one request
}

export interface HistoryRequest {
  /** IB's duration string for this request. */
  duration: string;
  /** End time (epoch ms), or undefined for "now" on the first request. */
  endMs: number | undefined;
}

export function parseDuration(duration: string): number {
  const m = /^(\d+) ([SDWMY])$/.exec(duration);
  if (!m) {
    throw new InvalidArgumentError(
      "duration",
      `${JSON.stringify(duration)} is not an IB duration`,
      'Use "<n> <unit>" with unit S, D, W, M or Y, e.g. "1 M".',
    );
  }
  return Number(m[1]) * (DURATION_UNIT_SECONDS[m[2] as string] as number);
}

export function barSecondsOf(barSize: string): number {
  const seconds = BAR_SECONDS[barSize];
  if (seconds === undefined) {
    throw new InvalidArgumentError(
      "barSize",
      `${JSON.stringify(barSize)} is not an IB bar size`,
      `Use one of ${Object.keys(BAR_SECONDS).join(", ")}.`,
    );
  }
  return seconds;
}

/**
 * The requests that cover `duration` of `barSize` bars ending at `endMs` (undefined: now, resolved
 * to `nowMs` for the later chunks). One request when IB allows it; otherwise chunks of IB's maximum.
 */
export function planHistory(
  duration: string,
  barSize: string,
  endMs: number | undefined,
  nowMs: number,
): HistoryRequest[] {
  const total = parseDuration(duration);
  const limit = maxRequestSeconds(barSecondsOf(barSize));
  if (total <= limit) return [{ duration, endMs }];
  const chunk = limit;
  const chunkDuration = chunk < DAY ? `${chunk} S` : `${chunk / DAY} D`;
  const end = endMs ?? nowMs;
  const requests: HistoryRequest[] = [];
  for (let covered = 0; covered < total; covered += chunk) {
    const remaining = total - covered;
    const last = remaining <= chunk;
    const lastDuration = remaining < DAY ? `${remaining} S` : `${Math.ceil(remaining / DAY)} D`;
    requests.push({
      duration: last ? lastDuration : chunkDuration,
      endMs: covered === 0 ? endMs : end - covered * 1000,
    });
  }
  return requests;
}
