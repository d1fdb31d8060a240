/** IB's vocabulary for historical data, shared by the library and the simulator. */

/** Bar sizes ("barSizeSetting") in seconds. */
export const BAR_SECONDS: Readonly<Record<string, number>> = {
  "1 secs": 1,
  "5 secs": 5,
  "10 secs": 10,
  "15 secs": 15,
  "30 secs": 30,
  "1 min": 60,
  "2 mins": 120,
  "3 mins": 180,
  "5 mins": 300,
  "10 mins": 600,
  "15 mins": 900,
  "20 mins": 1200,
  "30 mins": 1800,
  "1 hour": 3600,
  "2 hours": 7200,
  "3 hours": 10800,
  "4 hours": 14400,
  "8 hours": 28800,
  "1 day": 86_400,
  "1 week": 604_800,
  "1 month": 2_592_000,
};

/** Duration units ("durationStr" is "<n> <unit>"), in seconds; a month is 30 days, a year 365. */
export const DURATION_UNIT_SECONDS: Readonly<Record<string, number>> = {
  S: 1,
  D: 86_400,
  W: 604_800,
  M: 2_592_000,
  Y: 31_536_000,
};
