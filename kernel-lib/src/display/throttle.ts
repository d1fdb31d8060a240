/**
 * A latest-value throttle for displays and the JupyterLab feed: the first value goes at once, then
 * at most one per interval under bursts, and the last value pushed always goes (coalesced: values
 * in between are dropped, never queued). Its timer is unref'd, so it never keeps a process alive.
 */
export interface Throttle<T> {
  /** Sends now, or later with whatever value is latest by then. */
  push(value: T): void;
  /** Sends a pending value at once. */
  flush(): void;
  /** Drops a pending value and stops. */
  cancel(): void;
}

export function throttleLatest<T>(send: (value: T) => void, minIntervalMs: number): Throttle<T> {
  let lastSentAt = Number.NEGATIVE_INFINITY;
  let pending: { value: T } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;

  const sendNow = (value: T) => {
    lastSentAt = Date.now();
    send(value);
  };
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const next = pending;
    pending = undefined;
    if (next && !cancelled) sendNow(next.value);
  };

  return {
    push(value) {
      if (cancelled) return;
      const wait = lastSentAt + minIntervalMs - Date.now();
      if (wait <= 0 && timer === undefined) {
        sendNow(value);
        return;
      }
      pending = { value };
      if (timer === undefined) {
        timer = setTimeout(flush, Math.max(0, wait));
        timer.unref();
      }
    },
    flush,
    cancel() {
      cancelled = true;
      pending = undefined;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
