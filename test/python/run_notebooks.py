#!/usr/bin/env python3
"""Executes every example notebook top to bottom on the real tslab kernel, against ibkr-sim.

    python test/python/run_notebooks.py            # run and check; the notebooks on disk are untouched
    python test/python/run_notebooks.py --write    # also save them back to notebooks/ with their outputs
    python test/python/run_notebooks.py 03-market-data   # only some (names or file names)

The simulator serves notebooks/demo-account.json on a free loopback port; each kernel gets
IBKR_PORT and IBKR_BROKER=ibkr-paper, as `make demo` gives JupyterLab's kernels, and starts in
notebooks/, whose node_modules holds ibkr-notebook and tslab (notebooks/package.json). A temporary
kernelspec named "tslab" (the notebooks' kernelspec) points at notebooks/node_modules/.bin/tslab, so
nothing is read from or written to the user's Jupyter folders.

A notebook fails on any error: a cell that raised, an `error` output, anything on stderr. Then every
output must read without the extension (text/plain or text/html; charts also image/svg+xml, for
GitHub), and the outputs that must not change are checked (tables, their columns, error texts).

Needs: the TypeScript build (kernel-lib/dist), `npm ci --prefix notebooks`, and nbclient in the venv.
Exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from check_tslab_kernel import CheckFailed, expect, start_simulator

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
SIM_CLI = REPO / "kernel-lib" / "dist" / "simulator" / "cli.js"
TSLAB = NOTEBOOKS / "node_modules" / ".bin" / "tslab"
LIBRARY = NOTEBOOKS / "node_modules" / "ibkr-notebook"

CELL_TIMEOUT_S = 90  # the first cell of a kernel starts tslab's TypeScript compiler
STARTUP_TIMEOUT_S = 60
VEGA_LITE = "application/vnd.vegalite.v5+json"
RICH_TEXT = ("text/plain", "text/html")


# ── reading outputs ─────────────────────────────────────────────────────────────────────────────


def code_cells(nb: Any) -> list[Any]:
    return [c for c in nb.cells if c.cell_type == "code"]


def cell_with(nb: Any, fragment: str) -> Any:
    """The code cell whose source contains `fragment` (the checks name cells by their code)."""
    found = [c for c in code_cells(nb) if fragment in c.source]
    expect(len(found) == 1, f"expected one cell with {fragment!r}, found {len(found)}")
    return found[0]


def stdout(cell: Any) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def rich(cell: Any, mime: str) -> list[str]:
    shown = [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")]
    return [o.data[mime] for o in shown if mime in o.data]


def html_table_headers(table: str) -> list[str]:
    head = re.search(r"<thead>(.*?)</thead>", table, re.S)
    expect(head is not None, "the HTML has no <thead>")
    assert head is not None
    cells = re.findall(r"<th\b[^>]*>(.*?)</th>", head.group(1), re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", h)).strip() for h in cells]


def html_tables(cell: Any) -> list[str]:
    return [h for h in rich(cell, "text/html") if "<table" in h]


def check_outputs_render(nb: Any) -> None:
    """No error anywhere; every rich output has a form GitHub renders; charts carry an SVG."""
    for i, cell in enumerate(code_cells(nb), start=1):
        for out in cell.outputs:
            where = f"code cell {i}:\n{cell.source}\n"
            expect(out.output_type != "error", f"{where}raised {out.get('ename')}: {out.get('evalue')}")
            if out.output_type == "stream":
                expect(out.name == "stdout", f"{where}wrote to {out.name}:\n{out.text[:2000]}")
                continue
            data = out.get("data", {})
            expect(any(m in data for m in RICH_TEXT), f"{where}an output has neither text/plain nor text/html")
            if VEGA_LITE in data:
                expect(str(data.get("image/svg+xml", "")).startswith("<svg"), f"{where}a chart without its SVG")


# ── what each notebook must show ────────────────────────────────────────────────────────────────

POSITION_HEADERS = ["Symbol", "Type", "Quantity", "Avg cost", "Cost basis", "Currency"]
PORTFOLIO_HEADERS = ["Symbol", "Quantity", "Price", "Market value", "Unrealized P&L", "Realized P&L"]


def connection_card(nb: Any) -> str:
    # The card follows the connection: the notebook's last cell closes it, so it ends up OFFLINE.
    card = "".join(rich(cell_with(nb, "await connect()"), "text/plain"))
    expect("DU7654321" in card and re.search(r"Client id\s+2\b", card) is not None, f"connection card:\n{card}")
    return card


def check_01(nb: Any) -> str:
    connection_card(nb)
    expect("DU7654321" in stdout(cell_with(nb, "ib.accounts")), "ib.accounts does not list DU7654321")
    positions = cell_with(nb, "await ib.positions()")
    expect(stdout(positions).strip() == "14 positions in DU7654321", f"positions summary: {stdout(positions)!r}")
    tables = html_tables(positions)
    expect(len(tables) == 1, "positions: expected one HTML table")
    headers = html_table_headers(tables[0])
    expect(all(h in headers for h in POSITION_HEADERS), f"positions columns: {headers}")
    expect(tables[0].count("<tr") >= 15, "positions: fewer than 14 rows")
    for symbol in ("AAPL", "MSFT", "ES", "EUR"):
        expect(f">{symbol}" in tables[0], f"positions: no {symbol} row")
    expect("DU7654321" in tables[0], "positions: the account is not named")
    portfolio = cell_with(nb, "const portfolio = await ib.portfolio()")
    tables = html_tables(portfolio)
    expect(len(tables) == 1, "portfolio: expected one HTML table")
    headers = html_table_headers(tables[0])
    expect(all(h in headers for h in PORTFOLIO_HEADERS), f"portfolio columns: {headers}")
    expect(len(rich(portfolio, "image/svg+xml")) == 1, "portfolio: expected the allocation chart")
    exposure = html_tables(cell_with(nb, "display.asTable("))
    expect(len(exposure) == 1 and "STK" in exposure[0] and "FUT" in exposure[0], "exposure by type: no table")
    account = "".join(rich(cell_with(nb, "await ib.account()"), "text/plain"))
    expect("NetLiquidation" in account, f"account: no NetLiquidation:\n{account}")
    pnl = "".join(rich(cell_with(nb, "await ib.pnl()"), "text/plain"))
    expect("nrealized" in pnl, f"pnl: no unrealized P&L:\n{pnl}")
    by_position = html_tables(cell_with(nb, "await ib.positionPnl()"))
    expect(len(by_position) == 1, "positionPnl: expected one HTML table")
    headers = html_table_headers(by_position[0])
    expect("Daily P&L" in headers and "Symbol" in headers, f"positionPnl columns: {headers}")
    expect(by_position[0].count("<tr") >= 15, "positionPnl: fewer than 14 rows")
    return "card, 14 positions in DU7654321, portfolio table + chart, exposure, account, P&L, P&L by position"


def check_02(nb: Any) -> str:
    refusal = stdout(cell_with(nb, 'await ib.buy("AAPL", 10, { limit: 190 })'))
    expect(
        refusal.startswith("TradingGuardError: This connection is read-only: no order was sent."),
        f"read-only refusal:\n{refusal}",
    )
    expect("connect({ trading: true })" in refusal, "the refusal does not say how to enable trading")
    resting = "".join(rich(cell_with(nb, "const resting = await trader.buy"), "text/plain"))
    expect("Submitted" in resting and "AAPL" in resting, f"the resting order is not Submitted:\n{resting}")
    working = "".join(rich(cell_with(nb, "await trader.openOrders()"), "text/plain"))
    for order in ("990", "991", "MSFT", "NVDA"):
        expect(order in working, f"open orders: no {order}:\n{working}")
    whatif = "".join(rich(cell_with(nb, "await trader.whatIf("), "text/plain"))
    expect("argin" in whatif and "ommission" in whatif, f"whatIf: no margin / commission:\n{whatif}")
    cancelled = stdout(cell_with(nb, "await trader.cancelOrder(resting)")).strip()
    expect(cancelled.strip("'") == "Cancelled", f"cancel: status {cancelled!r}")
    bought = cell_with(nb, "const bought = await trader.buy")
    expect("Filled" in "".join(rich(bought, "text/plain")), "the marketable order did not fill")
    fills = cell_with(nb, "await trader.fills()")
    tables = html_tables(fills)
    expect(len(tables) == 1 and "MSFT" in tables[0], "fills: no table with the MSFT fill")
    expect(any("ommission" in h for h in html_table_headers(tables[0])), "fills: no commission column")
    live = stdout(cell_with(nb, 'broker: "ibkr-live", trading: true'))
    expect(
        live.startswith("TradingGuardError: Account U1234567 is live money and allowLive is not set"),
        f"live without allowLive:\n{live}",
    )
    mixed = stdout(cell_with(nb, "const mixedUp = await connect"))
    expect(
        mixed.startswith('TradingGuardError: broker is "ibkr-paper" but TWS is logged into live account U1234567'),
        f"live account on the paper broker:\n{mixed}",
    )
    return "read-only refusal, resting order Submitted → Cancelled, a fill with commission, live guard texts"


def check_03(nb: Any) -> str:
    quote = "".join(rich(cell_with(nb, 'await ib.quote("AAPL")'), "text/plain"))
    expect("AAPL" in quote and "Bid" in quote, f"quote:\n{quote}")
    quotes = html_tables(cell_with(nb, "await ib.quotes(["))
    expect(len(quotes) == 1 and all(s in quotes[0] for s in ("NVDA", "SPY", "EUR")), "quotes: not 5 rows")
    ticker = cell_with(nb, 'ib.ticker("SPY")')
    expect("SPY ticked while we watched" in stdout(ticker), f"ticker: {stdout(ticker)!r}")
    expect("SPY  bid" in "".join(rich(ticker, "text/plain")), "ticker: no live output")
    bars = cell_with(nb, "const bars = await ib.bars(")
    expect(len(rich(bars, "image/svg+xml")) == 1 and len(rich(bars, VEGA_LITE)) == 1, "bars: no chart")
    expect(len(html_tables(bars)) == 1, "bars: no table")
    expect(re.match(r"\d+ daily bars; last close", stdout(cell_with(nb, "const first = bars[0]"))), "bars: no stats")
    volatility = check_03_volatility(nb, html_table_headers(html_tables(bars)[0]))
    lines = stdout(cell_with(nb, "ib.marketDataLines = 2"))
    expect(lines.rstrip().endswith("(quote booster packs)."), f"the lines cell printed more than the error:\n{lines}")
    expect(lines.startswith("MarketDataLinesError (IB 101): Max number of market data lines reached (2"), lines)
    return f"quote, 5 quotes, a ticking SPY, bars chart (Vega-Lite + SVG) and table, {volatility}, the 101 error"


def check_03_volatility(nb: Any, bar_headers: list[str]) -> str:
    """A year of bars as a dataframe: returns, a 20-day volatility, its chart, and the bars as CSV."""
    summary = stdout(cell_with(nb, "await yearly.toDataFrame<aq.ColumnTable>()")).strip()
    found = re.fullmatch(
        r"(\d+) daily bars, a 20-day volatility on (\d+) of them: "
        r"latest ([\d.]+)%, range ([\d.]+)% to ([\d.]+)% \(annualised\)",
        summary,
    )
    expect(found is not None, f"volatility summary:\n{summary}")
    assert found is not None
    days, with_vol = int(found.group(1)), int(found.group(2))
    latest, low, high = (float(found.group(i)) for i in (3, 4, 5))
    expect(240 <= days <= 270, f"a year of daily bars should be about 252 trading days, got {days}")
    # The first return needs a previous close, the first volatility 20 returns.
    expect(with_vol == days - 20, f"{with_vol} volatilities for {days} bars (expected {days - 20})")
    expect(0 < low <= latest <= high < 200, f"volatilities out of range: {summary}")

    chart = cell_with(nb, "display.chartBundle(volatilityChart")
    specs = rich(chart, VEGA_LITE)
    expect(len(specs) == 1 and len(rich(chart, "image/svg+xml")) == 1, "volatility: no chart with its SVG")
    values = specs[0]["data"]["values"]
    expect(len(values) == days, f"volatility chart: {len(values)} points for {days} bars")
    charted = [v["Vol 20d"] for v in values if v.get("Vol 20d") is not None]
    expect(len(charted) == with_vol, f"volatility chart: {len(charted)} volatilities, the summary {with_vol}")
    expect(abs(charted[-1] * 100 - latest) < 0.05, f"chart ends at {charted[-1]}, the summary says {latest}%")
    expect(stdout(chart) == "", f"the chart cell printed:\n{stdout(chart)[:300]}")

    csv = stdout(cell_with(nb, "yearly.toCSV(")).splitlines()
    expect(len(csv) == 3, f"CSV: expected the path, the header and a row:\n{csv}")
    path, header, row = csv
    expect(path.startswith("/") and path.endswith("AAPL-1Y.csv"), f"CSV: not an absolute path: {path!r}")
    expect(header.split(",") == bar_headers, f"CSV header {header!r}, the bars table's {bar_headers}")
    fields = row.split(",")
    expect(len(fields) == len(bar_headers), f"CSV: row {row!r} does not match the header")
    expect(fields[0] == values[0]["Time"][:10], f"CSV: first day {fields[0]}, the chart's {values[0]['Time']}")
    return f"{days} daily bars → {with_vol} 20-day volatilities, their chart (Vega-Lite + SVG), the CSV file"


def live_output(nb: Any, fragment: str) -> Any:
    """The cell that starts a live form: one output, shown as a table or card; the handle not printed."""
    cell = cell_with(nb, fragment)
    shown = [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")]
    expect(len(shown) == 1, f"{fragment}: expected one live output, found {len(shown)}")
    expect(stdout(cell) == "", f"{fragment} printed:\n{stdout(cell)[:300]}")
    return cell


def check_04(nb: Any) -> str:
    portfolio = live_output(nb, "await ib.portfolio.live()")
    tables = html_tables(portfolio)
    expect(len(tables) == 1, "live portfolio: expected one table")
    headers = html_table_headers(tables[0])
    expect(all(h in headers for h in PORTFOLIO_HEADERS), f"live portfolio columns: {headers}")
    expect(">AAPL" in tables[0] and ">MSFT" in tables[0], "live portfolio: not the demo account's rows")
    pnl = live_output(nb, "await ib.pnl.live()")
    card = "".join(rich(pnl, "text/plain"))
    expect(rich(pnl, "text/html") != [], "live P&L: no HTML")
    for field in ("P&L DU7654321", "Daily", "Unrealized", "Realized"):
        expect(field in card, f"live P&L: no {field!r}:\n{card}")
    orders = live_output(nb, "await ib.openOrders.live()")
    tables = html_tables(orders)
    expect(len(tables) == 1, "live open orders: expected one table")
    headers = html_table_headers(tables[0])
    expect(all(h in headers for h in ("Order", "Client", "Symbol", "Status", "Remaining")), f"orders: {headers}")
    expect("Submitted" in tables[0], "live open orders: no working order")
    watched = stdout(cell_with(nb, "await sleep(3000)")).strip()
    expect(
        watched == "still connected after watching for 3 s; updating: portfolio, P&L, open orders",
        f"after watching:\n{watched}",
    )
    stopped = cell_with(nb, "livePortfolio.stop()")
    expect(stopped.outputs == [], f"stopping printed: {stopped.outputs}")
    return "live portfolio table, live P&L card, live open orders, still connected and updating, stopped"


def check_05(nb: Any) -> str:
    report = stdout(cell_with(nb, "await doctor("))
    expect("API handshake OK" in report and "DU7654321" in report, f"doctor:\n{report}")
    refused = stdout(cell_with(nb, "await connect({ port: unusedPort })"))
    expect(refused.startswith("ConnectionRefusedError (IB 502): Nothing is listening on 127.0.0.1 port "), refused)
    in_use = stdout(cell_with(nb, "const first = await connect()"))
    expect(in_use.startswith("ClientIdInUseError (IB 326): Client id 2 is already in use"), in_use)
    auto = stdout(cell_with(nb, 'clientId: "auto"'))
    expect(auto.strip() == "first: client 2, second: client 3", f"auto client id: {auto!r}")
    login = stdout(cell_with(nb, "sim.loginWindow(3000)"))
    expect(login.startswith("HandshakeTimeoutError: 127.0.0.1:"), login)
    expect("did not finish the API handshake within 2000 ms" in login, login)
    restart = stdout(cell_with(nb, "await sim.restart("))
    expect(restart.startswith("connected → ") and restart.splitlines()[0].endswith("→ connected"), restart)
    expect("reconnecting" in restart, f"restart: no reconnect seen:\n{restart}")
    expect("positions after the restart: 14" in restart, f"restart: positions not restored:\n{restart}")
    notices = stdout(cell_with(nb, "sim.connectivityLost()"))
    expect(notices.startswith("1100: ") and "\n1102: " in notices, f"notices:\n{notices}")
    read_only = stdout(cell_with(nb, "sim.setReadOnlyApi(true)"))
    expect(read_only.startswith("ReadOnlyApiError (IB 321): TWS / IB Gateway refused order "), read_only)
    expect('untick "Read-Only API"' in read_only, f"read-only: no fix named:\n{read_only}")
    expect("positions still work: 14; trader.readOnlyApi: true" in read_only, read_only)
    expect(read_only.rstrip().endswith("after unticking, the order is Submitted"), read_only)
    return "doctor, ConnectionRefusedError, ClientIdInUseError, auto id, HandshakeTimeoutError, restart, 1100/1102, Read-Only API"


CHECKS: dict[str, Callable[[Any], str]] = {
    "01-connect-and-look-around": check_01,
    "02-orders-on-paper": check_02,
    "03-market-data": check_03,
    "04-monitoring": check_04,
    "05-troubleshooting": check_05,
}


# ── processes ───────────────────────────────────────────────────────────────────────────────────




def kernel_specs(root: Path) -> KernelSpecManager:
    """A kernelspec named like the notebooks' ("tslab"), in a folder only this run reads."""
    spec_dir = root / "kernels" / "tslab"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [str(TSLAB), "kernel", "--config-path", "{connection_file}"],
        "display_name": "TypeScript",
        "language": "typescript",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(root / "kernels")], ensure_native_kernel=False)


def tidy(nb: Any) -> None:
    """What is saved: outputs and execution counts, no timings or per-run metadata."""
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "TypeScript", "language": "typescript", "name": "tslab"}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)


def run_notebook(path: Path, specs: KernelSpecManager, log_dir: Path) -> tuple[Any, float]:
    nb = nbformat.read(path, as_version=4)
    nbformat.validator.normalize(nb)  # cell ids, as nbformat 5.1+ writes them
    km = KernelManager(kernel_name="tslab", kernel_spec_manager=specs)
    km.shutdown_wait_time = 3.0
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT_S,
        startup_timeout=STARTUP_TIMEOUT_S,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    started = time.monotonic()
    with (log_dir / f"{path.stem}.log").open("w") as log:
        try:
            client.execute(stdout=log, stderr=log)
        finally:
            # nbclient leaves a kernel it did not create running: stop it (and its connections).
            if km.has_kernel:
                km.shutdown_kernel(now=False)
    return nb, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="save the executed notebooks to notebooks/")
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    args = parser.parse_args()

    for needed, hint in [
        (SIM_CLI, "run the TypeScript build first (npm run build)"),
        (TSLAB, "install the notebooks' packages: npm ci --prefix notebooks"),
        (LIBRARY, "install the notebooks' packages: npm ci --prefix notebooks"),
    ]:
        if not needed.exists():
            print(f"run_notebooks: {needed} is missing: {hint}", file=sys.stderr)
            return 2

    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    missing = set(CHECKS) - {p.stem for p in paths}
    if missing:
        print(f"run_notebooks: notebooks missing: {sorted(missing)}", file=sys.stderr)
        return 2
    if args.names:
        wanted = {Path(n).stem for n in args.names}
        paths = [p for p in paths if p.stem in wanted]

    started = time.monotonic()
    sim, port = start_simulator()
    # The kernels' environment, as `make demo` sets it for JupyterLab; nothing of the caller's IBKR_*.
    for name in ("IBKR_HOST", "IBKR_CLIENT_ID"):
        os.environ.pop(name, None)
    os.environ["IBKR_BROKER"] = "ibkr-paper"
    os.environ["IBKR_PORT"] = str(port)
    results: list[tuple[str, str | None, str]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="run-notebooks-") as tmp:
            specs = kernel_specs(Path(tmp))
            for path in paths:
                try:
                    nb, took = run_notebook(path, specs, Path(tmp))
                    check_outputs_render(nb)
                    detail = CHECKS[path.stem](nb) if path.stem in CHECKS else "ran"
                    if args.write:
                        tidy(nb)
                        nbformat.write(nb, path)
                    results.append((path.name, None, f"{detail} ({took:.1f} s)"))
                except Exception as error:  # a failed cell or check, a dead kernel: report it, run the rest
                    log = Path(tmp) / f"{path.stem}.log"
                    tail = log.read_text()[-3000:] if log.exists() else ""
                    results.append((path.name, f"{type(error).__name__}: {error}", tail))
    finally:
        sim.terminate()
        try:
            sim.wait(timeout=5)
        except subprocess.TimeoutExpired:
            sim.kill()

    failed = [r for r in results if r[1] is not None]
    for name, error, detail in results:
        if error:
            print(f"FAIL {name}\n     " + error.replace("\n", "\n     "))
            if detail:
                print("     --- kernel log ---\n     " + detail.replace("\n", "\n     "))
        else:
            print(f"ok   {name}: {detail}")
    if args.write and not failed:
        print(f"saved {len(results)} notebooks with their outputs to {NOTEBOOKS.relative_to(REPO)}/")
    print(f"notebooks took {time.monotonic() - started:.1f} s")
    print(f"notebooks: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
