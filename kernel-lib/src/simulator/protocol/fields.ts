/**
 * IB's field encodings: every value on the wire is text, NUL-terminated.
 *
 * Server side we always send "" for an unset number (every client reads it as unset), 0/1 for
 * booleans and plain decimal text (never exponent notation) for numbers. Client side we accept every
 * spelling of "unset" that a real client sends: "", 2^31-1, 2^63-1 and DBL_MAX (research P7).
 */

/** Thrown when a client sends a field that cannot be what the message says it is. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    /** Name of the request being decoded, when known. */
    readonly request?: string,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}

const UNSET_SPELLINGS = new Set([
  "",
  "2147483647",
  "9223372036854775807",
  "-9223372036854775808",
  "1.7976931348623157E308",
  "1.7976931348623157e+308",
  "1.7976931348623157e308",
  "170141183460469231731687303715884105727",
]);

/** True for every spelling a client uses for "no value". */
export function isUnset(text: string): boolean {
  return UNSET_SPELLINGS.has(text);
}

const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Number as plain decimal text: no exponent, no trailing zeros ("151.5", "100", "0.0001"). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot encode ${value} as a TWS number`);
  // 15 significant digits drop binary noise (231.53000000000003 → 231.53) and keep every real digit.
  const text = String(Number(value.toPrecision(15)));
  if (!text.includes("e")) return text;
  // Very small or very large values: fixed notation, trimmed.
  return value.toFixed(12).replace(/\.?0+$/, "");
}

/** Field writers for server → client messages. `undefined` means unset and is sent as "". */
export const field = {
  str: (value: string | undefined): string => value ?? "",
  int: (value: number | undefined): string => (value === undefined ? "" : String(Math.trunc(value))),
  num: (value: number | undefined): string => (value === undefined ? "" : formatNumber(value)),
  bool: (value: boolean | undefined): string => (value ? "1" : "0"),
} as const;

/**
 * Reads the fields of one client request in order. Each reader names the field it expects so that
 * a malformed request produces an error a person can act on.
 */
export class FieldReader {
  private index: number;

  constructor(
    private readonly fields: readonly string[],
    readonly request: string,
    start = 1,
  ) {
    this.index = start;
  }

  get remaining(): number {
    return this.fields.length - this.index;
  }

  private next(name: string): string {
    if (this.index >= this.fields.length) {
      throw new ProtocolError(`${this.request}: field "${name}" is missing`, this.request);
    }
    return this.fields[this.index++] as string;
  }

  /** Steps over fields the simulator does not model; they must be present all the same. */
  skip(count = 1, what = "a field"): void {
    if (this.index + count > this.fields.length) {
      throw new ProtocolError(`${this.request}: ${what} is missing (message ends early)`, this.request);
    }
    this.index += count;
  }

  str(name: string): string {
    return this.next(name);
  }

  /** An integer field; unset spellings yield `undefined`. */
  optInt(name: string): number | undefined {
    const text = this.next(name);
    if (isUnset(text)) return undefined;
    if (!/^[+-]?\d+$/.test(text)) {
      throw new ProtocolError(
        `${this.request}: field "${name}" must be an integer, got "${text}"`,
        this.request,
      );
    }
    return Number(text);
  }

  int(name: string, fallback?: number): number {
    const value = this.optInt(name);
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    throw new ProtocolError(`${this.request}: field "${name}" must be an integer, got nothing`, this.request);
  }

  /** A double or decimal field; unset spellings yield `undefined`. */
  optNum(name: string): number | undefined {
    const raw = this.next(name);
    if (isUnset(raw)) return undefined;
    const text = raw.replace(/,/g, "");
    if (!PLAIN_NUMBER.test(text)) {
      if (text === "Infinity" || text === "Infinite") return Number.POSITIVE_INFINITY;
      throw new ProtocolError(
        `${this.request}: field "${name}" must be a number, got "${raw}"`,
        this.request,
      );
    }
    return Number(text);
  }

  num(name: string, fallback?: number): number {
    const value = this.optNum(name);
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    throw new ProtocolError(`${this.request}: field "${name}" must be a number, got nothing`, this.request);
  }

  /** IB booleans are integers; "" is false (stoqey leaves unset booleans empty). */
  bool(name: string): boolean {
    const value = this.optInt(name);
    return value !== undefined && value !== 0;
  }
}
