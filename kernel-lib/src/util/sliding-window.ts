/** Counts events in a sliding time window: the shape of every IB rate limit. */
export class SlidingWindow {
  private readonly times: number[] = [];

  constructor(readonly windowMs: number) {}

  /** Records an event at `now` and returns how many fall inside the window, this one included. */
  hit(now: number): number {
    this.times.push(now);
    return this.count(now);
  }

  count(now: number): number {
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < this.times.length && (this.times[drop] as number) <= cutoff) drop++;
    if (drop > 0) this.times.splice(0, drop);
    return this.times.length;
  }

  /** When the oldest event in the window leaves it (the earliest time `count` can drop). */
  nextExpiry(): number | undefined {
    const oldest = this.times[0];
    return oldest === undefined ? undefined : oldest + this.windowMs;
  }
}
