import { badgeFor, IbkrModel, SourceModel } from "../model";
import { FEED_MIME_TYPE } from "../payload";
import { feedMessage, iopub, payload } from "./fixtures";

describe("SourceModel", () => {
  it("takes snapshots from the feed's iopub messages and emits changed", () => {
    const model = new SourceModel("a.ipynb");
    const changes = jest.fn();
    model.changed.connect(changes);
    expect(model.handleIOPub(feedMessage(payload()), 1000)).toBe(true);
    expect(model.payload?.positions[0].symbol).toBe("AAPL");
    expect(model.receivedAt).toBe(1000);
    expect(changes).toHaveBeenCalledTimes(1);
  });

  it("ignores other iopub traffic", () => {
    const model = new SourceModel("a.ipynb");
    expect(model.handleIOPub(iopub({ "text/plain": "hello" }))).toBe(false);
    expect(model.handleIOPub(iopub({ [FEED_MIME_TYPE]: payload() }, "stream"))).toBe(false);
    expect(model.payload).toBeNull();
  });

  it("also reads a display_data carrying the MIME type (a cell that displays the feed on purpose)", () => {
    const model = new SourceModel("a.ipynb");
    expect(model.handleIOPub(iopub({ [FEED_MIME_TYPE]: payload() }, "display_data"))).toBe(true);
  });

  it("reports a malformed snapshot and shows none of it, then recovers on the next good one", () => {
    const model = new SourceModel("a.ipynb");
    model.applyData(payload({ seq: 1 }));
    model.applyData({ ...payload({ seq: 2 }), positions: [{ symbol: "AAPL" }] });
    expect(model.payload).toBeNull();
    expect(model.error).toContain("positions[0]");
    model.applyData(payload({ seq: 3 }));
    expect(model.error).toBeNull();
    expect(model.payload?.seq).toBe(3);
  });

  it("reports an unknown version", () => {
    const model = new SourceModel("a.ipynb");
    model.applyData({ ...payload(), v: 2 });
    expect(model.error).toMatch(/unsupported feed version number 2/);
    expect(badgeFor(model, "Active notebook")).toMatchObject({ kind: "offline" });
    expect(badgeFor(model, "Active notebook").reason).toMatch(/^feed rejected: unsupported feed version/);
  });

  it("tracks seq: duplicates are dropped, gaps counted as coalesced, a lower seq is a new feed", () => {
    const model = new SourceModel("a.ipynb");
    const changes = jest.fn();
    model.changed.connect(changes);
    model.applyData(payload({ seq: 1 }));
    model.applyData(payload({ seq: 1 }));
    expect(changes).toHaveBeenCalledTimes(1);
    model.applyData(payload({ seq: 5, ts: "2026-11-24T14:30:02.000Z" }));
    expect(model.coalesced).toBe(3);
    model.applyData(payload({ seq: 1, ts: "2026-11-24T14:31:00.000Z" }));
    expect(model.payload?.seq).toBe(1);
    expect(changes).toHaveBeenCalledTimes(3);
  });

  it("keeps the last snapshot when the kernel goes down, until the next one", () => {
    const model = new SourceModel("a.ipynb");
    model.applyData(payload());
    model.markDown("the kernel restarted");
    expect(model.payload).not.toBeNull();
    expect(badgeFor(model, "Active notebook")).toMatchObject({
      kind: "offline",
      reason: "the kernel restarted",
    });
    model.applyData(payload({ seq: 2 }));
    expect(model.down).toBeNull();
    expect(badgeFor(model, "Active notebook").kind).toBe("paper");
  });

  it("forgets everything on reset", () => {
    const model = new SourceModel("a.ipynb");
    model.applyData(payload());
    model.reset("another kernel");
    expect(model.payload).toBeNull();
    expect(model.down?.reason).toBe("another kernel");
  });
});

describe("badgeFor", () => {
  const withConnection = (state: string, live = false) => {
    const model = new SourceModel("a.ipynb");
    const p = payload();
    p.source.live = live;
    p.source.broker = live ? "ibkr-live" : "ibkr-paper";
    model.applyData({ ...p, connection: { ...p.connection, state, reason: `reason ${state}` } });
    return badgeFor(model, "Active notebook");
  };

  it.each([
    ["connected", false, "PAPER"],
    ["connected", true, "LIVE"],
    ["reconnecting", false, "RECONNECTING"],
    ["connecting", false, "RECONNECTING"],
    ["stale", false, "STALE"],
    ["disconnected", false, "OFFLINE"],
  ])("%s (live %p) reads %s", (state, live, text) => {
    expect(withConnection(state, live).text).toBe(text);
  });

  it("puts client id, host:port, accounts and the last connected time in the title", () => {
    const badge = withConnection("reconnecting");
    expect(badge.title).toContain("client id 2 · 127.0.0.1:7497 (TWS)");
    expect(badge.title).toContain("accounts DU1234567");
    expect(badge.title).toContain("last connected");
    expect(badge.reason).toBe("reason reconnecting");
    expect(badge.lastConnectedAt).toBe("2026-11-24T14:00:00.000Z");
  });

  it("tells the user what to do when there is nothing", () => {
    expect(badgeFor(null, "Monitor").reason).toContain(
      "run `await connect()` in a notebook, or start the monitor",
    );
    expect(badgeFor(new SourceModel("x"), "Monitor").reason).toMatch(/^no feed yet/);
  });
});

describe("IbkrModel", () => {
  it("follows the selected source's model and re-emits its changes only", () => {
    const model = new IbkrModel();
    const notebook = new SourceModel("a.ipynb");
    const monitor = new SourceModel("monitor");
    model.setSourceModel("notebook", notebook);
    model.setSourceModel("monitor", monitor);
    const changes = jest.fn();
    model.changed.connect(changes);
    monitor.applyData(payload());
    expect(changes).not.toHaveBeenCalled();
    notebook.applyData(payload());
    expect(changes).toHaveBeenCalledTimes(1);
    model.selected = "monitor";
    expect(model.current).toBe(monitor);
    expect(changes).toHaveBeenCalledTimes(2);
  });

  it("stops listening to a model it no longer offers", () => {
    const model = new IbkrModel();
    const first = new SourceModel("a.ipynb");
    model.setSourceModel("notebook", first);
    model.setSourceModel("notebook", new SourceModel("b.ipynb"));
    const changes = jest.fn();
    model.changed.connect(changes);
    first.applyData(payload());
    expect(changes).not.toHaveBeenCalled();
  });
});
