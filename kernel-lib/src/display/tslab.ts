/**
 * The one module that reaches into tslab (1.0.22; tslab is treated as frozen, see the research notes).
 * Everything here is a harmless no-op outside tslab (plain Node, the REPL, vitest): functions report
 * whether they sent anything, never throw, and never write to stdout.
 *
 * How it reaches the kernel: tslab's executor sets `globalThis.__tslab__ = { exports, require }`, and
 * that `require("tslab")` is the *running* kernel's public module (dist/public.js), wherever tslab is
 * installed — a plain `require("tslab")` from this package could find another copy, or none. Beside it,
 * already in the module cache, dist/jupyter.js holds `lastWriteDisplayData`: the writer bound to the
 * latest execute_request (replaced on every execute, null before the first: tslab's "Not ready").
 * Calling that writer sends one display_data or update_display_data message with any MIME bundle,
 * where tslab's public `display.raw()` sends one MIME type per message and no text/plain fallback.
 * Should that file ever be missing, the public API is used instead, one MIME type per message.
 *
 * Every message is parented to the latest execute_request, so a late plain display_data lands in the
 * last-run cell. Background senders therefore use either a live display (updates routed by display id)
 * or the hidden channel (updates for a display id that no output ever showed: JupyterLab routes them to
 * no output, yet its iopubMessage signal fires — DESIGN decision 2).
 */
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { throttleLatest } from "./throttle";

/** A MIME bundle: MIME type → content (a string, or JSON for `application/*+json`). */
export type MimeBundle = Record<string, unknown>;

interface DisplayMessage {
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}

/** tslab's `jupyter.lastWriteDisplayData`: `update` picks update_display_data over display_data. */
type DisplayWriter = (message: DisplayMessage, update?: boolean) => void;

interface CachedModule {
  exports?: unknown;
  filename?: string;
}

interface TslabHook {
  require: ((id: string) => unknown) & { cache?: Record<string, CachedModule | undefined> };
}

/** tslab's public Display (DisplayImpl): `update` is a plain field, set after its first send. */
interface PublicDisplay {
  raw(contentType: string, content: unknown): void;
  update?: boolean;
}

interface PublicApi {
  display: PublicDisplay;
  newDisplay(): PublicDisplay;
}

interface KernelModules {
  /** dist/jupyter.js, when found. */
  jupyter: { lastWriteDisplayData?: DisplayWriter | null } | undefined;
  /** dist/public.js, for the fallback. */
  publicApi: PublicApi | undefined;
}

function tslabHook(): TslabHook | undefined {
  const hook = (globalThis as { __tslab__?: Partial<TslabHook> }).__tslab__;
  return hook && typeof hook.require === "function" ? (hook as TslabHook) : undefined;
}

/** Whether this code runs inside a tslab kernel. */
export function isTslab(): boolean {
  return tslabHook() !== undefined;
}

let resolved: { hook: TslabHook; modules: KernelModules } | undefined;

/** Finds the running kernel's modules once per hook (the executor sets one per kernel). */
function kernelModules(hook: TslabHook): KernelModules {
  if (resolved?.hook !== hook) resolved = { hook, modules: findKernelModules(hook) };
  return resolved.modules;
}

function findKernelModules(hook: TslabHook): KernelModules {
  let publicApi: unknown;
  try {
    publicApi = hook.require("tslab");
  } catch {
    return { jupyter: undefined, publicApi: undefined };
  }
  const api = isPublicApi(publicApi) ? publicApi : undefined;
  const cache = hook.require.cache ?? {};
  for (const entry of Object.values(cache)) {
    if (!entry || entry.exports !== publicApi || typeof entry.filename !== "string") continue;
    const jupyter = cache[join(dirname(entry.filename), "jupyter.js")]?.exports;
    if (jupyter && typeof jupyter === "object" && "lastWriteDisplayData" in jupyter) {
      return { jupyter: jupyter as KernelModules["jupyter"], publicApi: api };
    }
  }
  return { jupyter: undefined, publicApi: api };
}

function isPublicApi(value: unknown): value is PublicApi {
  const api = value as Partial<PublicApi> | undefined;
  return typeof api?.newDisplay === "function" && typeof api.display?.raw === "function";
}

interface Target {
  displayId: string | undefined;
  /** Send update_display_data rather than display_data. */
  update: boolean;
}

/** Sends one message; false outside tslab, before the first execute, or if tslab refused it. */
function send(data: MimeBundle, target: Target): boolean {
  const hook = tslabHook();
  if (!hook) return false;
  const { jupyter, publicApi } = kernelModules(hook);
  try {
    if (jupyter) {
      const write = jupyter.lastWriteDisplayData;
      if (typeof write !== "function") return false; // no execute_request yet: "Not ready"
      const transient = target.displayId === undefined ? {} : { display_id: target.displayId };
      write({ data, metadata: {}, transient }, target.update);
      return true;
    }
    return publicApi ? sendThroughPublicApi(publicApi, data, target) : false;
  } catch {
    return false; // not serialisable, socket closed, "Not ready" from the public API …
  }
}

/** What the fallback sends when it can send only one MIME type: the richest a frontend renders. */
const PREFERRED_MIME_TYPES = [
  "application/vnd.vegalite.v5+json",
  "text/html",
  "image/svg+xml",
  "image/png",
  "text/markdown",
  "text/plain",
];

/** The fallback's DisplayImpl objects, by our display id (tslab picks its own ids). */
const publicDisplays = new Map<string, PublicDisplay>();

function sendThroughPublicApi(api: PublicApi, data: MimeBundle, target: Target): boolean {
  const mime = PREFERRED_MIME_TYPES.find((m) => m in data) ?? Object.keys(data)[0];
  if (mime === undefined) return false;
  let display = api.display;
  if (target.displayId !== undefined) {
    display = publicDisplays.get(target.displayId) ?? api.newDisplay();
    // Marking a never-shown display as an update makes its first message update_display_data.
    if (target.update) display.update = true;
    publicDisplays.set(target.displayId, display);
  }
  display.raw(mime, data[mime]);
  return true;
}

function newDisplayId(kind: string): string {
  return `ibkr-${kind}-${randomBytes(8).toString("hex")}`;
}

/**
 * Shows a MIME bundle as one output of the running cell (display_data). Several MIME types travel
 * in one message: the frontend picks the richest it renders and the notebook keeps them all.
 * Returns whether it was sent (false outside tslab).
 */
export function displayBundle(data: MimeBundle): boolean {
  return send(data, { displayId: undefined, update: false });
}

export interface LiveDisplay {
  /** The display id its messages carry. */
  readonly id: string;
  /**
   * The first call adds an output to the running cell; later calls replace it in place (throttled).
   * A function is called only when its bundle is sent, so coalesced updates cost no rendering.
   */
  update(data: MimeBundle | (() => MimeBundle)): void;
  /** Sends a pending update, then stops updating. */
  close(): void;
}

/**
 * One output that updates in place: display_data with a display id, then update_display_data for
 * that id, the first at once and then at most one per `minIntervalMs`, coalescing bursts. Updates
 * from background code still reach the right output: JupyterLab routes them by display id.
 * Call `update` first while the cell runs, so the output belongs to that cell.
 */
export function newLiveDisplay(options: { minIntervalMs?: number } = {}): LiveDisplay {
  const id = newDisplayId("live");
  let shown = false;
  let closed = false;
  const throttle = throttleLatest<MimeBundle | (() => MimeBundle)>((data) => {
    let bundle: MimeBundle;
    try {
      bundle = typeof data === "function" ? data() : data;
    } catch {
      return; // a rendering error in a background update must not escape into a timer
    }
    if (send(bundle, { displayId: id, update: shown })) shown = true;
  }, options.minIntervalMs ?? 250);
  return {
    id,
    update(data) {
      if (!closed) throttle.push(data);
    },
    close() {
      if (closed) return;
      throttle.flush();
      throttle.cancel();
      closed = true;
      publicDisplays.delete(id);
    },
  };
}

/** The display id of the hidden channel: one per process, never shown by any output. */
export const HIDDEN_DISPLAY_ID = newDisplayId("hidden");

/**
 * Publishes a payload on the hidden channel (DESIGN decision 2): an update_display_data for a
 * display id that no output ever displayed, so it changes no cell and is never saved, while
 * JupyterLab extensions see it on the kernel's iopub. Unthrottled: the feed coalesces
 * (see throttleLatest). Returns false outside tslab and before the kernel's first execute.
 */
export function publishHidden(mime: string, payload: unknown): boolean {
  return send({ [mime]: payload }, { displayId: HIDDEN_DISPLAY_ID, update: true });
}
