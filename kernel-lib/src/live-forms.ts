/**
 * Live forms: a cell output that updates in place as the broker state changes (`await
 * ib.positions.live()`). Updates are throttled by the display; every form stops on `stop()`, when
 * the connection closes, and when the kernel is interrupted, so no timer or listener outlives it.
 */
import { inspect } from "node:util";
import { showLive } from "./display/results";
import { isTslab } from "./display/tslab";
import type { View } from "./display/views";

export interface LiveForm {
  /** What the form shows, e.g. "positions". */
  readonly name: string;
  readonly isStopped: boolean;
  /** Stops updating; the output keeps its last state. */
  stop(): void;
}

type Subscribe = (changed: () => void) => () => void;

/** Every form of one connection, so that close() and an interrupt can stop them all. */
export class LiveForms {
  private readonly active = new Set<LiveForm>();
  private readonly onInterrupt = () => this.stopAll();

  /** Starts a form: renders `compute()` now, and again whenever `subscribe` reports a change. */
  start<T>(name: string, view: View<T>, compute: () => T, subscribe: Subscribe): LiveForm {
    const display = showLive(view, compute());
    let unsubscribe: () => void = () => {};
    let stopped = false;
    const form: LiveForm = {
      name,
      get isStopped() {
        return stopped;
      },
      stop: () => {
        if (stopped) return;
        stopped = true;
        unsubscribe();
        display.close();
        this.active.delete(form);
        if (this.active.size === 0) process.off("SIGINT", this.onInterrupt);
      },
    };
    Object.defineProperty(form, inspect.custom, {
      value: () => `live ${name}${stopped ? " (stopped)" : ": updating in place; .stop() to end"}`,
    });
    unsubscribe = subscribe(() => {
      if (!stopped) display.update(compute());
    });
    // tslab turns the kernel's interrupt into SIGINT; elsewhere a SIGINT listener would keep Ctrl-C
    // from ending the program, so only listen inside tslab.
    if (this.active.size === 0 && isTslab()) process.on("SIGINT", this.onInterrupt);
    this.active.add(form);
    return form;
  }

  get count(): number {
    return this.active.size;
  }

  stopAll(): void {
    for (const form of [...this.active]) form.stop();
  }
}

/** A subscription to several events of one emitter. */
export function onEvents(
  emitter: {
    on(event: string, listener: () => void): unknown;
    off(event: string, listener: () => void): unknown;
  },
  events: readonly string[],
): Subscribe {
  return (changed) => {
    for (const event of events) emitter.on(event, changed);
    return () => {
      for (const event of events) emitter.off(event, changed);
    };
  };
}
