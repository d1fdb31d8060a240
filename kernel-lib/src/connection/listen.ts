/**
 * Listening to an IBApi's events with a way back: each listener comes with the function that
 * removes it, so what a session wires is undone with it.
 */
import type { EventEmitter } from "node:events";
import type { EventName, IBApi } from "@stoqey/ib";

/** Adds `listener` for `event`; returns the function that removes it. */
export function listen(api: IBApi, event: EventName, listener: (...args: never[]) => unknown): () => void {
  const emitter = api as unknown as EventEmitter;
  const l = listener as (...args: unknown[]) => void;
  emitter.on(event, l);
  return () => emitter.off(event, l);
}

/** One function that calls each of `offs`. */
export function unlisten(offs: ReadonlyArray<() => void>): () => void {
  return () => {
    for (const off of offs) off();
  };
}
