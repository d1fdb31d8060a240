/**
 * What the benchmarks watch inside the page, all on the epoch clock (performance.timeOrigin + now(),
 * fractional ms) that the driver and the kernel also use on this machine:
 *
 * - every kernel WebSocket frame's arrival, before JupyterLab decodes it (a listener added in the
 *   WebSocket's constructor runs before JupyterLab's own onmessage);
 * - every feed snapshot of the notebook's kernel: its arrival, when it was decoded, the kernel's send
 *   time (the message header's date), and the two values the driver changes (the watched order's
 *   filled quantity and the watched position's quantity);
 * - the Orders and Positions panels' DOM: a MutationObserver notes when the watched order row first
 *   reads each filled quantity, and the watched position row each quantity. Its callback runs at the
 *   end of the task that changed the DOM, so its time is when the change was committed.
 *
 * The functions here run in the page: Playwright sends their source, so each is self-contained.
 */
import { expect, type IJupyterLabPageFixture } from "@jupyterlab/galata";

export interface FeedArrival {
  /** The WebSocket frame arrived. */
  wsAt: number;
  /** JupyterLab decoded it (its kernel's anyMessage signal). */
  decodedAt: number;
  /** The kernel sent it (header date, ms precision). */
  sentAt: number;
  seq: number;
  positions: number;
  /** The watched order's filled quantity, or null when the snapshot lacks that order. */
  filled: number | null;
  /** The watched position's quantity, or null. */
  quantity: number | null;
}

export interface ProbeState {
  /** The last kernel WebSocket frame's arrival. */
  wsAt: number;
  /** Feed snapshots since the last watch(), recorded or not. */
  count: number;
  /** When the kernel sent the last snapshot (its header's date): how far behind the page is. */
  lastSentAt: number;
  /** Each snapshot's arrival, while something is watched. */
  feed: FeedArrival[];
  watch: Target | null;
  /** Filled quantity of the watched order → when the Orders panel first showed it. */
  ordersDom: Record<number, number>;
  /** Quantity of the watched position → when the Positions panel first showed it. */
  positionsDom: Record<number, number>;
  /** The JSON text of the first snapshot since watch() (to time JSON.parse on it). */
  sample: string | null;
}

export interface Target {
  orderId: number;
  symbol: string;
}

declare global {
  interface Window {
    __ibkrBench: ProbeState;
  }
}

/** Installed with page.addInitScript: runs before JupyterLab opens any kernel WebSocket. */
export function installWebSocketProbe(): void {
  const now = () => performance.timeOrigin + performance.now();
  window.__ibkrBench = {
    wsAt: 0,
    count: 0,
    lastSentAt: 0,
    feed: [],
    watch: null,
    ordersDom: {},
    positionsDom: {},
    sample: null,
  };
  const Native = window.WebSocket;
  class Probed extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      if (String(url).includes("/api/kernels/")) {
        this.addEventListener("message", () => {
          window.__ibkrBench.wsAt = now();
        });
      }
    }
  }
  window.WebSocket = Probed;
}

/**
 * Reloads the page with the WebSocket probe installed, creates the notebook `name` on the tslab
 * kernel in `dir`, waits for the kernel, and attaches the probe to it (`mime`: the feed's MIME
 * type). Returns the notebook's path.
 */
export async function openProbedNotebook(
  page: IJupyterLabPageFixture,
  dir: string,
  name: string,
  mime: string,
): Promise<string> {
  await page.addInitScript(installWebSocketProbe);
  await page.reload();
  const path = `${dir}/${name}`;
  await page.notebook.createNew(name, { kernel: "tslab" });
  await expect(page.locator("#jp-main-statusbar").getByText(/TypeScript \| Idle/)).toBeVisible({
    timeout: 60_000,
  });
  await attachProbe(page, path, mime);
  return path;
}

/**
 * Listens to the kernel of the notebook at `path` for feed snapshots, and observes both panels.
 * `mime` is the feed's MIME type.
 */
export function attachProbe(page: IJupyterLabPageFixture, path: string, mime: string): Promise<void> {
  return page.evaluate(
    ({ path, mime }) => {
      const now = () => performance.timeOrigin + performance.now();
      const state = window.__ibkrBench;
      const digits = (text: string | null | undefined) => {
        const clean = (text ?? "").replace(/[^0-9.-]/g, "");
        return clean === "" ? null : Number(clean);
      };
      type Message = {
        channel?: string;
        header: { msg_type: string; date: string };
        content: { data?: Record<string, unknown> };
      };
      type Panel = {
        context?: { path: string };
        sessionContext: {
          session: {
            kernel: { anyMessage: { connect(fn: (_: unknown, a: { msg: Message }) => void): void } };
          };
        };
      };
      const notebook = [...window.jupyterapp.shell.widgets("main")].find(
        (w) => (w as unknown as Panel).context?.path === path,
      ) as unknown as Panel | undefined;
      const kernel = notebook?.sessionContext.session?.kernel;
      if (!kernel) throw new Error(`no kernel for ${path}`);
      kernel.anyMessage.connect((_, { msg }) => {
        const type = msg.header.msg_type;
        if (msg.channel !== "iopub" || (type !== "update_display_data" && type !== "display_data")) return;
        const data = msg.content.data?.[mime] as
          | {
              seq: number;
              positions: Array<{ symbol: string; quantity: number }>;
              orders: Array<{ orderId: number; filled: number }>;
            }
          | undefined;
        if (!data) return;
        const decodedAt = now();
        state.count += 1;
        state.lastSentAt = Date.parse(msg.header.date);
        const watch = state.watch;
        if (!watch) return;
        const order = data.orders.find((o) => o.orderId === watch.orderId);
        const position = data.positions.find((p) => p.symbol === watch.symbol);
        if (state.sample === null) state.sample = JSON.stringify(data);
        state.feed.push({
          wsAt: state.wsAt,
          decodedAt,
          sentAt: Date.parse(msg.header.date),
          seq: data.seq,
          positions: data.positions.length,
          filled: order ? order.filled : null,
          quantity: position ? position.quantity : null,
        });
      });

      const cell = (row: Element, column: string) =>
        row.querySelector(`td[data-column="${column}"]`)?.textContent ?? null;
      const observe = (id: string, look: (panel: Element, at: number) => void) => {
        const panel = document.getElementById(id);
        if (!panel) throw new Error(`no panel #${id}`);
        new MutationObserver(() => look(panel, now())).observe(panel, {
          subtree: true,
          childList: true,
          characterData: true,
        });
      };
      observe("jupyterlab-ibkr-orders", (panel, at) => {
        const watch = state.watch;
        if (!watch) return;
        for (const row of panel.querySelectorAll(".jp-ibkr-Orders-working tbody tr")) {
          if (digits(cell(row, "orderId")) !== watch.orderId) continue;
          const filled = digits(cell(row, "filled"));
          if (filled !== null && !(filled in state.ordersDom)) state.ordersDom[filled] = at;
        }
      });
      observe("jupyterlab-ibkr-positions", (panel, at) => {
        const watch = state.watch;
        if (!watch) return;
        for (const row of panel.querySelectorAll("tbody tr")) {
          if (cell(row, "symbol") !== watch.symbol) continue;
          const quantity = digits(cell(row, "quantity"));
          if (quantity !== null && !(quantity in state.positionsDom)) state.positionsDom[quantity] = at;
        }
      });
    },
    { path, mime },
  );
}

/** Starts watching an order and a position (null: nothing, nothing recorded); forgets the past. */
export function watch(page: IJupyterLabPageFixture, target: Target | null): Promise<void> {
  return page.evaluate((target) => {
    const state = window.__ibkrBench;
    state.watch = target;
    state.count = 0;
    state.feed = [];
    state.ordersDom = {};
    state.positionsDom = {};
    state.sample = null;
  }, target);
}

/**
 * Waits until no feed snapshot has arrived for `quietMs` (so the feed's throttle window is over and
 * the next change is published at once), at most `timeoutMs`.
 */
export function feedQuiet(page: IJupyterLabPageFixture, quietMs: number, timeoutMs = 5000): Promise<void> {
  return page.evaluate(
    async ({ quietMs, timeoutMs }) => {
      const state = window.__ibkrBench;
      const now = () => performance.timeOrigin + performance.now();
      const deadline = now() + timeoutMs;
      for (;;) {
        const last = state.feed.at(-1)?.wsAt ?? 0;
        const wait = last + quietMs - now();
        if (wait <= 0) return;
        if (now() > deadline) throw new Error(`the feed did not go quiet for ${quietMs} ms`);
        await new Promise((done) => setTimeout(done, Math.min(wait + 1, 100)));
      }
    },
    { quietMs, timeoutMs },
  );
}

/** Waits until a panel showed `value` (the watched order's filled, or position's quantity); its time. */
export function shown(
  page: IJupyterLabPageFixture,
  panel: "orders" | "positions",
  value: number,
  timeoutMs = 5000,
): Promise<number> {
  return page.evaluate(
    async ({ panel, value, timeoutMs }) => {
      const state = window.__ibkrBench;
      const seen = () => (panel === "orders" ? state.ordersDom : state.positionsDom)[value];
      const deadline = Date.now() + timeoutMs;
      while (seen() === undefined) {
        if (Date.now() > deadline) throw new Error(`the ${panel} panel never showed ${value}`);
        await new Promise((done) => setTimeout(done, 5));
      }
      return seen() as number;
    },
    { panel, value, timeoutMs },
  );
}

export function feedArrivals(page: IJupyterLabPageFixture): Promise<FeedArrival[]> {
  return page.evaluate(() => window.__ibkrBench.feed);
}

/** Times JSON.parse of the first snapshot since watch(), `reps` times; and its size in bytes. */
export function parseTimes(
  page: IJupyterLabPageFixture,
  reps: number,
): Promise<{ bytes: number; ms: number[] }> {
  return page.evaluate((reps) => {
    const text = window.__ibkrBench.sample;
    if (text === null) throw new Error("no snapshot arrived since watch()");
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) {
      const started = performance.now();
      JSON.parse(text);
      ms.push(performance.now() - started);
    }
    return { bytes: new TextEncoder().encode(text).length, ms };
  }, reps);
}
