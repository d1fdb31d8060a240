/**
 * `toDataFrame()`: an arquero table with the records' columns, arquero imported once on first use;
 * and without arquero, an ibkr-notebook error that names the package and the command to install it
 * (simulated through the importer, and for real in a Node process that cannot resolve arquero).
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { inspect } from "node:util";
import * as aq from "arquero";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { DATAFRAME_INSTALL, setDataFrameImporter } from "../../src/display/data";
import { asBars, asPositions } from "../../src/display/results";
import { IbkrError, MissingDependencyError } from "../../src/errors";
import type { Bar } from "../../src/ib";
import type { Position } from "../../src/state/types";

const position = (
  account: string,
  symbol: string,
  secType: string,
  quantity: number,
  avgCost: number,
): Position => ({
  account,
  symbol,
  secType,
  localSymbol: symbol,
  currency: "USD",
  quantity,
  avgCost,
  contract: { symbol },
});

const positions = () =>
  asPositions([
    position("DU1", "AAPL", "STK", 100, 150),
    position("DU1", "MSFT", "STK", 12.5, 300),
    position("DU2", "SPY", "STK", -5, 600),
    position("DU2", "ES", "FUT", 2, 300_000),
  ]);

/** The error Node's `import()` gives for a package that is not installed. */
const notInstalled = (name: string) =>
  Object.assign(
    new Error(
      `Cannot find package '${name}' imported from /home/me/notebooks/node_modules/ibkr-notebook/dist/display/data.js`,
    ),
    {
      code: "ERR_MODULE_NOT_FOUND",
    },
  );

afterEach(() => setDataFrameImporter());

describe("toDataFrame()", () => {
  it("an arquero table: the records' columns in order, numbers and Dates kept; a group-by works", async () => {
    const rows = positions();
    const df = await rows.toDataFrame<aq.ColumnTable>();
    expect(df).toBeInstanceOf(aq.ColumnTable);
    expect(df.columnNames()).toEqual([
      "Account",
      "Symbol",
      "Type",
      "Quantity",
      "Avg cost",
      "Cost basis",
      "Currency",
    ]);
    expect(df.objects()).toEqual(rows.toRecords());
    const byAccount = df
      .groupby("Account")
      .rollup({ positions: aq.op.count(), cost: aq.op.sum("Cost basis") })
      .orderby("Account")
      .objects();
    expect(byAccount).toEqual([
      { Account: "DU1", positions: 2, cost: 15_000 + 3750 },
      { Account: "DU2", positions: 2, cost: -3000 + 600_000 },
    ]);

    const bars: Bar[] = Array.from({ length: 3 }, (_, i) => ({
      time: new Date(Date.UTC(2026, 0, 5 + i)),
      open: 100,
      high: 101,
      low: 99,
      close: 100 + i,
      volume: 10,
      wap: 100,
      count: 1,
    }));
    const barsDf = await (await asBars(bars)).toDataFrame();
    expect(barsDf.column("Time").at(0)).toEqual(new Date(Date.UTC(2026, 0, 5)));
    expect(barsDf.array("Close")).toEqual([100, 101, 102]);
  });

  it("imports arquero once, on first use", async () => {
    let imports = 0;
    setDataFrameImporter(() => {
      imports++;
      return import("arquero");
    });
    const rows = positions();
    const frames = await Promise.all([rows.toDataFrame(), rows.toDataFrame(), positions().toDataFrame()]);
    expect(frames.map((f) => f.numRows())).toEqual([4, 4, 4]);
    await rows.toDataFrame();
    expect(imports).toBe(1);
  });
});

describe("without arquero", () => {
  it("fails with an ibkr-notebook error naming the package and the install command", async () => {
    setDataFrameImporter(() => Promise.reject(notInstalled("arquero")));
    const error = await positions()
      .toDataFrame()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect(error).toBeInstanceOf(IbkrError);
    const missing = error as MissingDependencyError;
    expect(missing.packageName).toBe("arquero");
    expect(missing.installCommand).toBe("npm install arquero@8");
    expect(missing.installCommand).toBe(DATAFRAME_INSTALL);
    expect(missing.what).toMatch(/toDataFrame\(\) needs the package "arquero", which is not installed/);
    expect(missing.todo).toContain("`npm install arquero@8`");
    expect(missing.message).toContain("npm install arquero@8");
    expect((missing.cause as Error).message).toContain("Cannot find package 'arquero'");
    // As a notebook prints it: the error, what happened and what to do, no stack.
    const printed = inspect(missing);
    expect(printed).toMatch(/^MissingDependencyError: toDataFrame\(\) needs the package "arquero"/);
    expect(printed).toContain("→ In a terminal, in the notebook's folder");
    expect(printed).toContain("then restart the kernel");
    expect(printed).not.toContain("    at ");
  });

  it("ibkr-notebook does not keep a failure: the next call imports again", async () => {
    let installed = false;
    setDataFrameImporter(() => (installed ? import("arquero") : Promise.reject(notInstalled("arquero"))));
    const rows = positions();
    await expect(rows.toDataFrame()).rejects.toBeInstanceOf(MissingDependencyError);
    installed = true;
    expect((await rows.toDataFrame()).numRows()).toBe(4);
  });

  it("a broken install (one of arquero's own packages missing) says so, with the same fix", async () => {
    setDataFrameImporter(() => Promise.reject(notInstalled("@uwdata/flechette")));
    const error = (await positions()
      .toDataFrame()
      .catch((e: unknown) => e)) as MissingDependencyError;
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect(error.what).toMatch(
      /could not load the package "arquero": Cannot find package '@uwdata\/flechette'/,
    );
    expect(error.todo).toContain("npm install arquero@8");
  });

  it("a module that is not arquero 8 is refused the same way", async () => {
    setDataFrameImporter(() => Promise.resolve({ default: {} }));
    await expect(positions().toDataFrame()).rejects.toThrow(/has no table\(\) function.*arquero 8/);
  });
});

// The built library in a folder where `import("arquero")` cannot resolve: a user's kernel without it.
const DIST = join(__dirname, "..", "..", "dist");
const DIST_FILES = ["errors.js", "display/data.js", "display/format.js"];
const built = DIST_FILES.every((f) => existsSync(join(DIST, f)));

describe.skipIf(!built)("without arquero, in Node (the built library)", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("the real import() fails and the user sees the package and the command", () => {
    const dir = mkdtempSync(join(tmpdir(), "ibkr-no-arquero-"));
    dirs.push(dir);
    for (const file of DIST_FILES) {
      mkdirSync(dirname(join(dir, "dist", file)), { recursive: true });
      copyFileSync(join(DIST, file), join(dir, "dist", file));
    }
    const script = `
      const { inspect } = require("node:util");
      const { toDataFrame } = require("./dist/display/data.js");
      toDataFrame({ columns: [{ name: "x", kind: "text" }], values: [[1]], rowCount: 1 }).then(
        () => console.log(JSON.stringify({ loaded: true })),
        (e) => console.log(JSON.stringify({ name: e.name, packageName: e.packageName, cause: e.cause && e.cause.code, printed: inspect(e) })),
      );`;
    const env = { ...process.env };
    delete env.NODE_PATH;
    const out = JSON.parse(
      execFileSync(process.execPath, ["-e", script], { cwd: dir, env, encoding: "utf8" }),
    );
    expect(out).toMatchObject({
      name: "MissingDependencyError",
      packageName: "arquero",
      cause: "ERR_MODULE_NOT_FOUND",
    });
    expect(out.printed).toContain('needs the package "arquero", which is not installed');
    expect(out.printed).toContain("npm install arquero@8");
  });
});
