/**
 * A stand-in for a running tslab 1.0.22 kernel, shaped as the adapter finds the real one:
 * `globalThis.__tslab__.require("tslab")` is the public module (dist/public.js), and the module cache
 * holds its sibling dist/jupyter.js with `lastWriteDisplayData` (null until the first execute).
 * The public module mimics DisplayImpl.raw: one MIME type per message, "Not ready" before an execute.
 */
export interface SentMessage {
  msgType: "display_data" | "update_display_data";
  data: Record<string, unknown>;
  displayId: string | undefined;
}

interface DisplayMessage {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}

type Writer = (message: DisplayMessage, update?: boolean) => void;

export interface FakeTslab {
  messages: SentMessage[];
  /** What tslab does on every execute_request: installs that request's writer. */
  execute(): void;
  uninstall(): void;
}

export function installFakeTslab(options: { executed?: boolean; jupyterInCache?: boolean } = {}): FakeTslab {
  const messages: SentMessage[] = [];
  const writer: Writer = (message, update) => {
    // The real writer serialises the content with JSON.stringify: so does this one.
    const content = JSON.parse(JSON.stringify(message)) as DisplayMessage;
    messages.push({
      msgType: update ? "update_display_data" : "display_data",
      data: content.data,
      displayId: content.transient.display_id,
    });
  };
  const jupyter: { lastWriteDisplayData: Writer | null } = {
    lastWriteDisplayData: options.executed === false ? null : writer,
  };

  let counter = 0;
  class DisplayImpl {
    update: boolean | undefined;
    constructor(readonly id?: string) {}
    raw(contentType: string, content: unknown): void {
      if (jupyter.lastWriteDisplayData == null) throw Error("Not ready");
      const update = this.update;
      if (this.id) this.update = true;
      jupyter.lastWriteDisplayData(
        { data: { [contentType]: content }, metadata: {}, transient: { display_id: this.id } },
        update,
      );
    }
  }
  const publicApi = {
    display: new DisplayImpl(),
    newDisplay: () => new DisplayImpl(`tslab-${++counter}`),
  };

  const cache: Record<string, { exports: unknown; filename: string }> = {
    "/fake/node_modules/other/index.js": { exports: {}, filename: "/fake/node_modules/other/index.js" },
    "/fake/node_modules/tslab/dist/public.js": {
      exports: publicApi,
      filename: "/fake/node_modules/tslab/dist/public.js",
    },
  };
  if (options.jupyterInCache !== false) {
    cache["/fake/node_modules/tslab/dist/jupyter.js"] = {
      exports: jupyter,
      filename: "/fake/node_modules/tslab/dist/jupyter.js",
    };
  }
  const require = Object.assign(
    (id: string) => {
      if (id === "tslab") return publicApi;
      throw new Error(`Cannot find module '${id}'`);
    },
    { cache },
  );
  const global = globalThis as { __tslab__?: unknown };
  global.__tslab__ = { exports: {}, require };
  return {
    messages,
    execute() {
      jupyter.lastWriteDisplayData = writer;
    },
    uninstall() {
      delete global.__tslab__;
    },
  };
}
