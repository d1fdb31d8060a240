#!/usr/bin/env python3
"""ibkr-notebook inside a real tslab 1.0.22 kernel, driven as JupyterLab drives it (jupyter_client).

The simulator serves the demo account; a kernelspec in a temporary folder starts tslab with
notebooks/ as its cwd, whose node_modules (notebooks/package.json) holds ibkr-notebook (a link to
kernel-lib), @types/node and tslab itself, as a user's `npm install ibkr-notebook tslab` leaves a
notebook folder. Then cells run and iopub is checked:

1. `await ib.positions()` as a cell's last line: one display_data carrying text/html (a <table>) and
   text/plain together, then the one-line summary on stdout, and nothing else.
2. A chart: Vega-Lite and SVG in one display_data (vega loaded with import() inside the kernel).
3. A live display: display_data with a display id, then update_display_data for it from a timer.
4. The hidden channel (DESIGN decision 2): publishes from a cell and from a timer after the cell
   finished arrive only as update_display_data for a display id that no message ever displayed, with
   no stream output; replaying the session through JupyterLab's routing rules leaves every cell's
   outputs without them.

Run after the TypeScript build (kernel-lib/dist) and `npm ci --prefix notebooks` (the kernel, kept
out of the workspace: its TypeScript fork would shadow the workspace's tsc). Exits non-zero on any failure; everything is bounded well under a minute.
"""

from __future__ import annotations

import json
import queue
import re
import select
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

REPO = Path(__file__).resolve().parents[2]
KERNEL_LIB = REPO / "kernel-lib"
SIM_CLI = KERNEL_LIB / "dist" / "simulator" / "cli.js"
DEMO_SCENARIO = REPO / "notebooks" / "demo-account.json"
NOTEBOOKS = REPO / "notebooks"
TSLAB = NOTEBOOKS / "node_modules" / ".bin" / "tslab"
LIBRARY = NOTEBOOKS / "node_modules" / "ibkr-notebook"
TYPES_NODE = NOTEBOOKS / "node_modules" / "@types" / "node"

TOTAL_BUDGET_S = 55.0
FIRST_CELL_S = 30.0  # the first cell starts tslab's TypeScript compiler
CELL_S = 15.0
BACKGROUND_S = 0.8  # how long to listen after a cell for what its timers send
HIDDEN_MIME = "application/vnd.ibkr-notebook.check+json"


class CheckFailed(AssertionError):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@dataclass
class Cell:
    code: str
    msg_id: str
    reply: dict[str, Any]
    #: iopub messages whose parent is this cell, status messages left out, in arrival order.
    outputs: list[dict[str, Any]] = field(default_factory=list)
    #: messages that arrived after the cell went idle (background code).
    background: list[dict[str, Any]] = field(default_factory=list)

    def of_type(self, *types: str) -> list[dict[str, Any]]:
        return [m for m in self.outputs if m["msg_type"] in types]

    def stdout(self) -> str:
        return "".join(m["content"]["text"] for m in self.of_type("stream") if m["content"]["name"] == "stdout")


def port_listening(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


class Session:
    """A kernel client that records every iopub message, as a frontend sees them."""

    def __init__(self, km: KernelManager, deadline: float) -> None:
        self.km = km
        self.client = km.client()
        self.deadline = deadline
        self.iopub: list[dict[str, Any]] = []
        self.cells: list[Cell] = []

    def start(self) -> None:
        # tslab 1.0.22 binds its ZeroMQ sockets asynchronously and already answers on the shell socket
        # meanwhile: a kernel_info_request that arrives before iopub is bound fails its reply with EBUSY
        # ("Socket is blocked by a bind or unbind operation") and the kernel never answers. Wait until
        # every port accepts connections, as a kernel that finished starting does.
        info = self.km.get_connection_info()
        ports = [info[name] for name in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")]
        while not all(port_listening(info["ip"], port) for port in ports):
            if time.monotonic() > self.deadline:
                raise CheckFailed("the tslab kernel never bound its ports")
            time.sleep(0.05)
        time.sleep(0.2)  # the binds' promises settle after the ports open
        self.client.start_channels()
        self.client.wait_for_ready(timeout=self.remaining(FIRST_CELL_S))

    def remaining(self, limit: float) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise CheckFailed(f"over the {TOTAL_BUDGET_S:.0f} s budget")
        return min(limit, left)

    def next_iopub(self, timeout: float) -> dict[str, Any] | None:
        try:
            msg = self.client.get_iopub_msg(timeout=max(timeout, 0.01))
        except queue.Empty:
            return None
        self.iopub.append(msg)
        return msg

    def run(self, code: str, timeout: float = CELL_S, background: float = 0.0) -> Cell:
        msg_id = self.client.execute(code)
        until = time.monotonic() + self.remaining(timeout)
        outputs: list[dict[str, Any]] = []
        while True:
            left = until - time.monotonic()
            if left <= 0:
                raise CheckFailed(f"cell did not finish in {timeout:.0f} s:\n{code}")
            msg = self.next_iopub(left)
            if msg is None or msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status":
                if msg["content"]["execution_state"] == "idle":
                    break
                continue
            outputs.append(msg)
        reply = self.shell_reply(msg_id)
        cell = Cell(code, msg_id, reply, outputs)
        listen_until = time.monotonic() + background
        while (left := listen_until - time.monotonic()) > 0:
            msg = self.next_iopub(left)
            if msg is not None:
                cell.background.append(msg)
        self.cells.append(cell)
        if reply["content"]["status"] != "ok":
            raise CheckFailed(f"cell failed ({reply['content']['status']}):\n{code}\n{describe(outputs)}")
        return cell

    def shell_reply(self, msg_id: str) -> dict[str, Any]:
        while True:
            reply = self.client.get_shell_msg(timeout=self.remaining(CELL_S))
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply


def describe(messages: list[dict[str, Any]]) -> str:
    lines = []
    for m in messages:
        content = m["content"]
        detail = content.get("text") or list(content.get("data", {}).keys()) or content.get("ename", "")
        lines.append(f"  {m['msg_type']}: {str(detail)[:300]}")
    return "\n".join(lines) or "  (no output)"


def display_id(msg: dict[str, Any]) -> str | None:
    return msg["content"].get("transient", {}).get("display_id")


def jupyterlab_outputs(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Each cell's outputs after replaying iopub through JupyterLab 4's routing (research §2.2).

    display_data, execute_result, stream and error append to the cell whose request is their parent
    (its future stays alive: disposeOnDone=false); an update_display_data replaces, in any cell, the
    outputs that displayed its id, and reaches nothing else.
    """
    outputs: dict[str, list[dict[str, Any]]] = {cell.msg_id: [] for cell in session.cells}
    for msg in session.iopub:
        kind = msg["msg_type"]
        if kind == "update_display_data":
            for cell_outputs in outputs.values():
                for i, out in enumerate(cell_outputs):
                    if display_id(out) is not None and display_id(out) == display_id(msg):
                        cell_outputs[i] = msg
        elif kind in ("display_data", "execute_result", "stream", "error"):
            parent = msg["parent_header"].get("msg_id")
            if parent in outputs:
                outputs[parent].append(msg)
    return outputs


# ── the checks ──────────────────────────────────────────────────────────────────────────────────


def check_positions_table(session: Session) -> str:
    cell = session.run("await ib.positions()")
    kinds = [m["msg_type"] for m in cell.outputs]
    expect(
        kinds == ["display_data", "stream"],
        f"expected the table then the summary line, got:\n{describe(cell.outputs)}",
    )
    data = cell.outputs[0]["content"]["data"]
    expect(set(data) == {"text/html", "text/plain"}, f"expected text/html + text/plain, got {sorted(data)}")
    html, text = data["text/html"], data["text/plain"]
    expect("<table" in html and ">AAPL<" in html and "DU7654321" in html, "the HTML has no positions table")
    expect("AAPL" in text and "Quantity" in text, f"the text/plain fallback is not the table:\n{text}")
    line = cell.stdout()
    expect(
        re.fullmatch(r"\d+ positions in DU7654321\n", line) is not None,
        f"expected one summary line on stdout, got {line!r}",
    )
    return f"table in one display_data ({len(html):,} chars of HTML), then {line.strip()!r}"


def check_chart(session: Session) -> str:
    cell = session.run(
        'import { chartBundle, priceChart } from "ibkr-notebook/dist/display/charts";\n'
        'import { displayBundle } from "ibkr-notebook/dist/display/tslab";\n'
        'const checkBars = await ib.bars("AAPL", { duration: "1 M", barSize: "1 day" });\n'
        'const checkShown = displayBundle(await chartBundle(priceChart(checkBars), "[chart]"));\n'
    )
    shown = cell.of_type("display_data")
    expect(len(shown) == 1, f"expected one chart output, got:\n{describe(cell.outputs)}")
    data = shown[0]["content"]["data"]
    expect(
        set(data) == {"application/vnd.vegalite.v5+json", "image/svg+xml", "text/plain"},
        f"expected Vega-Lite + SVG + text, got {sorted(data)}",
    )
    expect(data["image/svg+xml"].startswith("<svg"), "the SVG is not an SVG document")
    bars = len(data["application/vnd.vegalite.v5+json"]["data"]["values"])
    return f"{bars} bars as Vega-Lite + SVG ({len(data['image/svg+xml']):,} chars) in one display_data"


def check_live_display(session: Session) -> str:
    cell = session.run(
        'import { newLiveDisplay } from "ibkr-notebook/dist/display/tslab";\n'
        "const checkLive = newLiveDisplay({ minIntervalMs: 50 });\n"
        'checkLive.update({ "text/plain": "tick 1" });\n'
        'const checkTimer = setTimeout(() => { checkLive.update({ "text/plain": "tick 2" }); checkLive.close(); }, 100);\n',
        background=BACKGROUND_S,
    )
    shown = cell.of_type("display_data")
    expect(len(shown) == 1 and display_id(shown[0]), f"expected one display with an id:\n{describe(cell.outputs)}")
    the_id = display_id(shown[0])
    updates = [m for m in cell.background if m["msg_type"] == "update_display_data"]
    expect(
        [(display_id(m), m["content"]["data"]) for m in updates] == [(the_id, {"text/plain": "tick 2"})],
        f"expected one update for {the_id}, got:\n{describe(cell.background)}",
    )
    final = [o for outs in jupyterlab_outputs(session).values() for o in outs if display_id(o) == the_id]
    expect(
        [o["content"]["data"] for o in final] == [{"text/plain": "tick 2"}],
        "the output was not updated in place",
    )
    return f"display_data for {the_id}, then update_display_data from a timer, replaced in place"


def check_hidden_channel(session: Session) -> str:
    cell = session.run(
        'import { publishHidden, HIDDEN_DISPLAY_ID } from "ibkr-notebook/dist/display/tslab";\n'
        f'const CHECK_MIME = "{HIDDEN_MIME}";\n'
        "const checkSentNow = publishHidden(CHECK_MIME, { n: 0 });\n"
        "const checkLater = setTimeout(() => {\n"
        "  publishHidden(CHECK_MIME, { n: 1 });\n"
        "  publishHidden(CHECK_MIME, { n: 2 });\n"
        "}, 200);\n"
        "console.log(JSON.stringify({ sent: checkSentNow, id: HIDDEN_DISPLAY_ID }));\n",
        background=BACKGROUND_S,
    )
    printed = json.loads(cell.stdout())
    expect(printed["sent"] is True, "publishHidden did not send inside a cell")
    hidden_id = printed["id"]

    carrying = [m for m in session.iopub if HIDDEN_MIME in m["content"].get("data", {})]
    expect(
        [m["content"]["data"][HIDDEN_MIME]["n"] for m in carrying] == [0, 1, 2],
        f"expected the three payloads, got:\n{describe(carrying)}",
    )
    for m in carrying:
        expect(m["msg_type"] == "update_display_data", f"a payload came as {m['msg_type']}")
        expect(display_id(m) == hidden_id, f"a payload came with display id {display_id(m)}")
    displayed = [m for m in session.iopub if m["msg_type"] != "update_display_data" and display_id(m) == hidden_id]
    expect(not displayed, f"the hidden id was displayed:\n{describe(displayed)}")
    stray = [m for m in cell.background if m["msg_type"] != "update_display_data"]
    expect(not stray, f"background code sent more than updates:\n{describe(stray)}")

    for msg_id, outs in jupyterlab_outputs(session).items():
        leaked = [o for o in outs if HIDDEN_MIME in o["content"].get("data", {})]
        expect(not leaked, f"a hidden payload reached the outputs of cell {msg_id}")
    cell_outputs = jupyterlab_outputs(session)[cell.msg_id]
    expect(
        [o["msg_type"] for o in cell_outputs] == ["stream"],
        f"the cell's outputs changed:\n{describe(cell_outputs)}",
    )
    return f"3 update_display_data for never-displayed {hidden_id} (1 in the cell, 2 from a timer); no cell output changed"


CHECKS: list[tuple[str, Callable[[Session], str]]] = [
    ("positions as the last line: HTML table + text/plain, then a summary line", check_positions_table),
    ("a chart: Vega-Lite + SVG rendered in the kernel", check_chart),
    ("a live display updated in place from background code", check_live_display),
    ("the hidden channel leaves the notebook untouched", check_hidden_channel),
]


# ── processes ───────────────────────────────────────────────────────────────────────────────────


def start_simulator() -> tuple[subprocess.Popen[str], int]:
    sim = subprocess.Popen(
        ["node", str(SIM_CLI), "--port", "0", "--scenario", str(DEMO_SCENARIO), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert sim.stdout is not None
    ready, _, _ = select.select([sim.stdout], [], [], 10)
    line = sim.stdout.readline() if ready else ""
    match = re.search(r"listening on [\d.]+:(\d+)", line)
    if not match:
        sim.kill()
        raise CheckFailed(f"ibkr-sim did not start: {line!r} {sim.stderr.read() if sim.stderr else ''}")
    return sim, int(match.group(1))


def kernel_manager(root: Path, tslab: Path = TSLAB) -> KernelManager:
    """tslab's own kernelspec (research §1.8), written where only this run looks."""
    spec_dir = root / "kernels" / "tslab-check"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [str(tslab), "kernel", "--config-path", "{connection_file}"],
        "display_name": "TypeScript (tslab 1.0.22, check)",
        "language": "typescript",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(root / "kernels")], ensure_native_kernel=False)
    km = KernelManager(kernel_name="tslab-check", kernel_spec_manager=specs)
    km.shutdown_wait_time = 3.0
    return km


def main() -> int:
    started = time.monotonic()
    for needed, hint in [
        (SIM_CLI, "run the TypeScript build first (npm run build)"),
        (TSLAB, "install the notebooks' packages: npm ci --prefix notebooks"),
        (LIBRARY, "install the notebooks' packages: npm ci --prefix notebooks"),
        (TYPES_NODE, "install the notebooks' packages: npm ci --prefix notebooks"),
    ]:
        if not needed.exists():
            print(f"check_tslab_kernel: {needed} is missing: {hint}", file=sys.stderr)
            return 2

    results: list[tuple[str, str | None, str]] = []
    sim, port = start_simulator()
    with tempfile.TemporaryDirectory(prefix="tslab-check-") as tmp:
        root = Path(tmp)
        km = kernel_manager(root)
        log_path = root / "kernel.log"
        with log_path.open("w") as log:
            try:
                km.start_kernel(cwd=str(NOTEBOOKS), stdout=log, stderr=log)
                session = Session(km, started + TOTAL_BUDGET_S)
                session.start()
                session.run(
                    f'import {{ connect }} from "ibkr-notebook";\nconst ib = await connect({{ port: {port} }});\n',
                    timeout=FIRST_CELL_S,
                )
                for name, check in CHECKS:
                    try:
                        results.append((name, None, check(session)))
                    except CheckFailed as error:
                        results.append((name, str(error), ""))
                session.run("ib.close();\n")
                session.client.stop_channels()
            except Exception as error:  # the kernel or the simulator: report, and say where to look
                detail = error if isinstance(error, CheckFailed) else traceback.format_exc()
                results.append(("kernel session", str(detail), ""))
                log.flush()
                print(f"--- kernel log ---\n{log_path.read_text()[-4000:]}", file=sys.stderr)
            finally:
                if km.has_kernel:
                    km.shutdown_kernel(now=False)
                sim.terminate()
                sim.wait(timeout=5)

    failed = [r for r in results if r[1] is not None]
    for name, error, detail in results:
        print(f"{'FAIL' if error else 'ok  '} {name}" + (f"\n     {detail}" if detail else ""))
        if error:
            print("     " + error.replace("\n", "\n     "))
    print(f"tslab kernel checks took {time.monotonic() - started:.1f} s")
    print(f"tslab-kernel: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
