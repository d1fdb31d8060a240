#!/usr/bin/env python3
"""`make demo`, run as a user runs it, then stopped with Ctrl-C.

1. `make demo` in its own session (a terminal's process group): it must print the JupyterLab URL
   with its token, and the simulator's port, within the time limit.
2. JupyterLab answers on that URL (/api/status and /lab with the token; without it, 403), on 127.0.0.1.
3. `jupyter labextension list` (the venv's) shows jupyterlab-ibkr enabled and OK; the tslab kernelspec
   is the venv's, and runs notebooks/node_modules/.bin/tslab; a tslab kernel starts through the
   server's REST API, as opening a notebook does.
4. Ctrl-C (SIGINT to the whole process group) stops everything: make exits, nothing listens on the
   simulator's or JupyterLab's port any more, and no tslab kernel of this run is left.
5. IBKR_BROKER=ibkr-paper starts no simulator and JupyterLab for the user's own paper TWS; Ctrl-C stops it.
6. IBKR_BROKER=ibkr-live is refused at once, with the reason, and starts nothing.

Run after the installs `make demo` itself would do (make test does them first). Exits non-zero on
any failure.
"""

from __future__ import annotations

import json
import os
import re
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv"
TSLAB = REPO / "notebooks" / "node_modules" / ".bin" / "tslab"
START_S = 240.0  # make demo's builds are up to date under make test; JupyterLab starts in ~5 s
STOP_S = 40.0

URL = re.compile(r"(http://127\.0\.0\.1:(\d+)/lab\?token=([0-9a-f]+))")
SIM = re.compile(r"ibkr-sim serves the demo paper account on 127\.0\.0\.1:(\d+)")


class CheckFailed(AssertionError):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def http(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def tslab_kernels(kernel_id: str) -> set[int]:
    """Processes running the notebooks' tslab as the kernel with this id (its connection file), by pid."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(TSLAB) in cmdline and f"kernel-{kernel_id}.json" in cmdline:
            pids.add(int(entry.name))
    return pids


def venv_env() -> dict[str, str]:
    env = dict(os.environ, JUPYTER_PREFER_ENV_PATH="1")
    env.pop("IBKR_BROKER", None)
    env.pop("IBKR_PORT", None)
    return env


def read_until_ready(lines: queue.Queue[str | None], seen: list[str]) -> tuple[str, int, str, int]:
    deadline = time.monotonic() + START_S
    url = sim_port = None
    while url is None or sim_port is None:
        left = deadline - time.monotonic()
        expect(left > 0, f"make demo printed no URL in {START_S:.0f} s:\n" + "".join(seen[-40:]))
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            continue
        expect(line is not None, "make demo ended before printing the URL:\n" + "".join(seen[-40:]))
        assert line is not None
        if m := SIM.search(line):
            sim_port = int(m.group(1))
        if m := URL.search(line):
            url = m.group(1)
            lab_port, token = int(m.group(2)), m.group(3)
    return url, lab_port, token, sim_port


def pump(stream: IO[str], lines: queue.Queue[str | None], seen: list[str]) -> None:
    """Every line make demo prints, kept for the report and handed to the reader; None at the end."""
    for line in stream:
        seen.append(line)
        lines.put(line)
    lines.put(None)


def check_running(lab_port: int, token: str, sim_port: int, kernels: list[str]) -> list[str]:
    notes = []
    base = f"http://127.0.0.1:{lab_port}"
    status, body = http(f"{base}/api/status?token={token}")
    expect(status == 200 and "started" in json.loads(body), f"/api/status answered {status}")
    status, body = http(f"{base}/lab?token={token}")
    expect(status == 200 and b"JupyterLab" in body, f"/lab answered {status}")
    expect(http(f"{base}/api/status")[0] == 403, "the server answers without the token")
    expect(listening(sim_port), f"nothing listens on the simulator's port {sim_port}")
    notes.append(f"JupyterLab on 127.0.0.1:{lab_port} answers with the token (403 without); ibkr-sim on {sim_port}")

    listed = subprocess.run(
        [str(VENV / "bin" / "jupyter"), "labextension", "list"],
        capture_output=True,
        text=True,
        env=venv_env(),
        timeout=60,
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
    expect(
        re.search(r"jupyterlab-ibkr v\S+ enabled\s+OK", text) is not None,
        f"jupyterlab-ibkr is not enabled and OK:\n{text}",
    )
    specs = subprocess.run(
        [str(VENV / "bin" / "jupyter"), "kernelspec", "list", "--json"],
        capture_output=True,
        text=True,
        env=venv_env(),
        timeout=60,
        check=True,
    )
    tslab = json.loads(specs.stdout)["kernelspecs"].get("tslab")
    expect(tslab is not None, "no tslab kernelspec")
    assert tslab is not None
    expect(
        Path(tslab["resource_dir"]).resolve().is_relative_to(VENV.resolve()),
        f"the tslab kernelspec is not the venv's: {tslab['resource_dir']}",
    )
    expect(tslab["spec"]["argv"][0] == str(TSLAB), f"the kernelspec runs {tslab['spec']['argv'][0]}")
    notes.append(f"jupyterlab-ibkr enabled OK; kernelspec tslab in {Path(tslab['resource_dir']).relative_to(REPO)}")

    request = urllib.request.Request(
        f"{base}/api/kernels?token={token}",
        data=json.dumps({"name": "tslab"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        kernel = json.loads(response.read())
    kernels.append(kernel["id"])
    deadline = time.monotonic() + 30
    while not tslab_kernels(kernel["id"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    expect(bool(tslab_kernels(kernel["id"])), "the tslab kernel did not start")
    notes.append(f"a tslab kernel started through the REST API ({kernel['id'][:8]}…)")
    return notes


def check_stopped(demo: subprocess.Popen[str], lab_port: int, sim_port: int, kernels: list[str]) -> str:
    os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole foreground group
    started = time.monotonic()
    try:
        demo.wait(timeout=STOP_S)
    except subprocess.TimeoutExpired as error:
        raise CheckFailed(f"make demo still running {STOP_S:.0f} s after Ctrl-C") from error
    took = time.monotonic() - started
    expect(not listening(lab_port), f"JupyterLab still listens on {lab_port} after Ctrl-C")
    expect(not listening(sim_port), f"the simulator still listens on {sim_port} after Ctrl-C")
    def left() -> set[int]:
        return {pid for kernel_id in kernels for pid in tslab_kernels(kernel_id)}

    deadline = time.monotonic() + 10
    while left() and time.monotonic() < deadline:
        time.sleep(0.2)
    expect(not left(), f"tslab kernels left running: pids {sorted(left())}")
    return f"Ctrl-C stopped everything in {took:.1f} s: nothing listens on {lab_port} or {sim_port}, no kernel left"


def check_live_refused() -> str:
    env = dict(os.environ, IBKR_BROKER="ibkr-live")
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "demo.sh")], capture_output=True, text=True, env=env, timeout=30
    )
    expect(result.returncode != 0, "IBKR_BROKER=ibkr-live was not refused")
    expect("never connects to a live account" in result.stderr, f"refusal text:\n{result.stderr}")
    expect("JupyterLab is ready" not in result.stdout, "it started JupyterLab anyway")
    return "IBKR_BROKER=ibkr-live refused: " + result.stderr.strip().splitlines()[0][:90] + "…"


def check_paper_mode() -> str:
    """IBKR_BROKER=ibkr-paper make demo: no simulator, JupyterLab for the user's own paper TWS."""
    env = dict(os.environ, IBKR_BROKER="ibkr-paper")
    env.pop("IBKR_PORT", None)
    demo = subprocess.Popen(
        ["make", "--no-print-directory", "demo"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        text=True, env=env, start_new_session=True,
    )
    seen: list[str] = []
    lines: queue.Queue[str | None] = queue.Queue()
    assert demo.stdout is not None
    threading.Thread(target=pump, args=(demo.stdout, lines, seen), daemon=True).start()
    try:
        deadline = time.monotonic() + START_S
        url = None
        while url is None:
            left = deadline - time.monotonic()
            expect(left > 0, "IBKR_BROKER=ibkr-paper make demo printed no URL:\n" + "".join(seen[-30:]))
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                continue
            expect(line is not None, "IBKR_BROKER=ibkr-paper make demo ended early:\n" + "".join(seen[-30:]))
            assert line is not None
            expect(not SIM.search(line), "IBKR_BROKER=ibkr-paper started the simulator")
            if m := URL.search(line):
                url = m.group(1)
                lab_port = int(m.group(2))
        expect(any("no simulator" in line for line in seen), "it did not say it uses your own TWS")
        os.killpg(demo.pid, signal.SIGINT)
        demo.wait(timeout=30)
        expect(not listening(lab_port), f"JupyterLab still listens on {lab_port} after Ctrl-C")
        return "IBKR_BROKER=ibkr-paper make demo: no simulator, JupyterLab for your own TWS, stopped by Ctrl-C"
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(timeout=10)


def main() -> int:
    started = time.monotonic()
    results: list[tuple[str, str | None]] = []
    env = dict(os.environ)
    env.pop("IBKR_BROKER", None)
    env.pop("IBKR_PORT", None)
    demo = subprocess.Popen(
        ["make", "--no-print-directory", "demo"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, as in a terminal
    )
    seen: list[str] = []
    kernels: list[str] = []
    lines: queue.Queue[str | None] = queue.Queue()
    assert demo.stdout is not None
    threading.Thread(target=pump, args=(demo.stdout, lines, seen), daemon=True).start()
    try:
        url, lab_port, token, sim_port = read_until_ready(lines, seen)
        results.append((f"make demo printed {url.replace(token, token[:6] + '…')}", None))
        try:
            results += [(note, None) for note in check_running(lab_port, token, sim_port, kernels)]
        except (CheckFailed, OSError, subprocess.SubprocessError) as error:
            results.append(("JupyterLab, the extension and the kernelspec", str(error)))
        results.append((check_stopped(demo, lab_port, sim_port, kernels), None))
    except CheckFailed as error:
        results.append(("make demo", str(error)))
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGTERM)
            demo.wait(timeout=30)
    try:
        results.append((check_paper_mode(), None))
    except (CheckFailed, subprocess.TimeoutExpired) as error:
        results.append(("IBKR_BROKER=ibkr-paper", str(error)))
    try:
        results.append((check_live_refused(), None))
    except (CheckFailed, subprocess.TimeoutExpired) as error:
        results.append(("IBKR_BROKER=ibkr-live", str(error)))

    failed = [r for r in results if r[1] is not None]
    for name, error in results:
        print(f"{'FAIL' if error else 'ok  '} {name}")
        if error:
            print("     " + error.replace("\n", "\n     "))
    if failed:
        print("--- make demo output ---\n" + "".join(seen[-60:]))
    print(f"demo check took {time.monotonic() - started:.1f} s")
    print(f"demo: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
