/**
 * Server versions the simulator speaks, and the gates between them (IB's MIN_SERVER_VER_* names).
 * Every field that differs between 157 and 176 is gated on one of these, as IB's clients gate them.
 */
export const ServerVersion = {
  /** ib_async's floor and the ceiling of IB's `ibapi` 9.81.1 on PyPI. */
  REPLACE_FA_END: 157,
  DURATION: 158,
  MARKET_DATA_IN_SHARES: 159,
  POST_TO_ATS: 160,
  WSHE_CALENDAR: 161,
  AUTO_CANCEL_PARENT: 162,
  FRACTIONAL_SIZE_SUPPORT: 163,
  SIZE_RULES: 164,
  HISTORICAL_SCHEDULE: 165,
  ADVANCED_ORDER_REJECT: 166,
  USER_INFO: 167,
  CRYPTO_AGGREGATED_TRADES: 168,
  MANUAL_ORDER_TIME: 169,
  PEGBEST_PEGMID_OFFSETS: 170,
  WSH_EVENT_DATA_FILTERS: 171,
  IPO_PRICES: 172,
  WSH_EVENT_DATA_FILTERS_DATE: 173,
  INSTRUMENT_TIMEZONE: 174,
  HMDS_MARKET_DATA_IN_SHARES: 175,
  BOND_ISSUERID: 176,
} as const;

export const MIN_SUPPORTED_VERSION = ServerVersion.REPLACE_FA_END;
/** Highest version in the ranges of @stoqey/ib, ib_async and 10.19-era IB clients, and below protobuf. */
export const MAX_SUPPORTED_VERSION = ServerVersion.BOND_ISSUERID;

export type Negotiation = { ok: true; version: number } | { ok: false; reason: string };

/** Answer like TWS: the highest version both sides speak. */
export function negotiateVersion(
  clientMin: number,
  clientMax: number,
  serverMax: number = MAX_SUPPORTED_VERSION,
): Negotiation {
  const version = Math.min(clientMax, serverMax);
  if (version < MIN_SUPPORTED_VERSION) {
    return {
      ok: false,
      reason: `client speaks up to version ${clientMax}; ibkr-sim needs at least ${MIN_SUPPORTED_VERSION}`,
    };
  }
  if (version < clientMin) {
    return {
      ok: false,
      reason: `client needs at least version ${clientMin}; ibkr-sim speaks up to ${serverMax}`,
    };
  }
  return { ok: true, version };
}
