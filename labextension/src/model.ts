/**
 * The state the panels show. `SourceModel` holds what one source (one notebook's kernel, or the monitor
 * kernel) last published; `IbkrModel` says which source the panels follow. Both own their state and
 * emit `changed`; the widgets only render them.
 */
import type { KernelMessage } from "@jupyterlab/services";
import type { IDisposable } from "@lumino/disposable";
import { type ISignal, Signal } from "@lumino/signaling";
import { FEED_MIME_TYPE, type FeedOrder, type FeedPayload, parsePayload } from "./payload";

/** Why a source is not live, when it is not: shown as the badge's reason. */
export interface SourceDown {
  reason: string;
  /** When it went down (ms since the epoch). */
  at: number;
}

export class SourceModel implements IDisposable {
  constructor(
    /** What the source is, for people: "Untitled.ipynb", "monitor". */
    public label: string,
  ) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The last accepted snapshot; null before the first one, after a rejected one and after a reset. */
  get payload(): FeedPayload | null {
    return this._payload;
  }

  /** Why the last payload was rejected; null when the last one was accepted. */
  get error(): string | null {
    return this._error;
  }

  /** Set while the kernel behind the source is restarting, dead or replaced; cleared by the next snapshot. */
  get down(): SourceDown | null {
    return this._down;
  }

  /** When the last snapshot (accepted or not) arrived, in ms since the epoch. */
  get receivedAt(): number | null {
    return this._receivedAt;
  }

  /** Snapshots the feed coalesced away (seq gaps) since the last reset; informational. */
  get coalesced(): number {
    return this._coalesced;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Takes the feed's messages out of a kernel's iopub stream and ignores everything else. Returns
   * whether the message was the feed's.
   */
  handleIOPub(msg: KernelMessage.IMessage, now = Date.now()): boolean {
    const type = msg.header.msg_type;
    if (type !== "update_display_data" && type !== "display_data") return false;
    const data = (msg.content as { data?: Record<string, unknown> }).data;
    if (!data || !Object.hasOwn(data, FEED_MIME_TYPE)) return false;
    this.applyData(data[FEED_MIME_TYPE], now);
    return true;
  }

  /** Applies one snapshot as received: accepted whole, or reported as an error and shown not at all. */
  applyData(data: unknown, now = Date.now()): void {
    if (this._isDisposed) return;
    this._receivedAt = now;
    const result = parsePayload(data);
    if (!result.ok) {
      this._payload = null;
      this._error = result.error;
      this._changed.emit();
      return;
    }
    const payload = result.payload;
    const last = this._payload;
    if (last && payload.seq === last.seq && payload.ts === last.ts) return; // the same snapshot twice
    // A lower seq means a new feed (the library reconnected in a fresh call): take it as a restart.
    if (last && payload.seq > last.seq + 1) this._coalesced += payload.seq - last.seq - 1;
    this._payload = payload;
    this._error = null;
    this._down = null;
    this._changed.emit();
  }

  /**
   * The kernel went away (restart, death): the library's connection went with it. The last snapshot
   * stays for reference; the badge says why it is not live until the next snapshot arrives.
   */
  markDown(reason: string, now = Date.now()): void {
    if (this._isDisposed) return;
    if (this._down?.reason === reason) return;
    this._down = { reason, at: now };
    this._changed.emit();
  }

  /** A different kernel: nothing from the old one applies any more. */
  reset(reason: string, now = Date.now()): void {
    if (this._isDisposed) return;
    this._payload = null;
    this._error = null;
    this._receivedAt = null;
    this._coalesced = 0;
    this._down = { reason, at: now };
    this._changed.emit();
  }

  dispose(): void {
    if (this._isDisposed) return;
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _payload: FeedPayload | null = null;
  private _error: string | null = null;
  private _down: SourceDown | null = null;
  private _receivedAt: number | null = null;
  private _coalesced = 0;
  private _isDisposed = false;
  private readonly _changed = new Signal<this, void>(this);
}

/** IB order statuses after which nothing more happens to an order. */
const DONE_STATUSES: ReadonlySet<string> = new Set(["Filled", "Cancelled", "ApiCancelled", "Inactive"]);

/** Whether an order can still change (fill, be cancelled). */
export function isWorking(order: FeedOrder): boolean {
  return !DONE_STATUSES.has(order.status);
}

export type SourceKind = "notebook" | "monitor";

export const SOURCE_LABELS: Readonly<Record<SourceKind, string>> = {
  notebook: "Active notebook",
  monitor: "Monitor",
};

/**
 * Which source the panels follow, and the model each source currently offers (the notebook source
 * offers the active notebook's model, so it changes as the user switches notebooks).
 */
export class IbkrModel implements IDisposable {
  constructor(selected: SourceKind = "notebook") {
    this._selected = selected;
  }

  /** Emitted when the selection, a source's model, or the selected model's state changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get selected(): SourceKind {
    return this._selected;
  }

  set selected(kind: SourceKind) {
    if (kind === this._selected) return;
    this._selected = kind;
    this._changed.emit();
  }

  /** The model the panels show; null when the selected source has none (no notebook open …). */
  get current(): SourceModel | null {
    return this._models[this._selected];
  }

  modelOf(kind: SourceKind): SourceModel | null {
    return this._models[kind];
  }

  /** Called by the sources. */
  setSourceModel(kind: SourceKind, model: SourceModel | null): void {
    const old = this._models[kind];
    if (old === model) return;
    old?.changed.disconnect(this._onModelChanged, this);
    this._models[kind] = model;
    model?.changed.connect(this._onModelChanged, this);
    if (kind === this._selected) this._changed.emit();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) return;
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _onModelChanged(sender: SourceModel): void {
    if (sender === this.current) this._changed.emit();
  }

  private _selected: SourceKind;
  private readonly _models: Record<SourceKind, SourceModel | null> = { notebook: null, monitor: null };
  private _isDisposed = false;
  private readonly _changed = new Signal<this, void>(this);
}

export type BadgeKind = "paper" | "live" | "offline" | "reconnecting" | "stale";

export interface Badge {
  kind: BadgeKind;
  /** PAPER, LIVE, OFFLINE, RECONNECTING, STALE. */
  text: string;
  reason: string;
  lastConnectedAt: string | null;
  /** The hover text: state, reason, client id and host:port, last connected time, source. */
  title: string;
}

export const EMPTY_HINT = "run `await connect()` in a notebook, or start the monitor";

/** What the connection badge says about a source's model. */
export function badgeFor(model: SourceModel | null, sourceName: string): Badge {
  const payload = model?.payload ?? null;
  let kind: BadgeKind = "offline";
  let reason: string;
  if (!model) reason = `no ${sourceName.toLowerCase()}: ${EMPTY_HINT}`;
  else if (model.error) reason = `feed rejected: ${model.error}`;
  else if (model.down) reason = model.down.reason;
  else if (!payload) reason = `no feed yet: ${EMPTY_HINT}`;
  else {
    reason = payload.connection.reason;
    switch (payload.connection.state) {
      case "connected":
        kind = payload.source.live ? "live" : "paper";
        break;
      case "connecting":
      case "reconnecting":
        kind = "reconnecting";
        break;
      case "stale":
        kind = "stale";
        break;
      case "disconnected":
        kind = "offline";
        break;
    }
  }
  const lastConnectedAt = payload?.connection.lastConnectedAt ?? null;
  const lines = [`${kind.toUpperCase()}: ${reason}`];
  if (payload) {
    const { clientId, host, port, kind: program, accounts } = payload.source;
    lines.push(`client id ${clientId ?? "?"} · ${host}:${port ?? "?"} (${program})`);
    if (accounts.length) lines.push(`accounts ${accounts.join(", ")}`);
  }
  if (lastConnectedAt) lines.push(`last connected ${formatTime(lastConnectedAt)}`);
  lines.push(`source: ${sourceName}${model ? ` (${model.label})` : ""}`);
  return { kind, text: kind.toUpperCase(), reason, lastConnectedAt, title: lines.join("\n") };
}

/** A local time for an ISO string, or the string itself when it does not parse. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}
