#!/usr/bin/env python3
"""Every command the README shows, run as a user would type it.

Collects the commands in the README's ```sh blocks and the `npx …` commands quoted in its text, and
runs each: `make demo` is run by check_demo.py and `make test` is what CI runs, so they are only
checked to be the two set-up commands; `npx ibkr-sim …` must print where it listens; `npx
ibkr-notebook doctor` must find that simulator and say how to connect. A command this script does
not know fails it, so a new command in the README comes with its check.

Run from anywhere after `npm ci` and the build; exits non-zero on any failure.
"""

from __future__ import annotations

import os
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
SET_UP = {"make demo", "make test"}


def readme_commands() -> list[str]:
    text = README.read_text()
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            command = line.split("#", 1)[0].strip()
            if command:
                commands.append(command)
    commands += re.findall(r"`(npx [^`]+)`", text)
    return list(dict.fromkeys(commands))


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def stop(sim: subprocess.Popen[str]) -> None:
    """SIGTERM to npx and the ibkr-sim it started (their process group), SIGKILL if they linger."""
    try:
        os.killpg(sim.pid, signal.SIGTERM)
        sim.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(sim.pid, signal.SIGKILL)
        sim.wait(timeout=10)
    except ProcessLookupError:
        pass


def start_simulator(command: str) -> tuple[subprocess.Popen[str], int, str]:
    args = shlex.split(command)
    note = ""
    port = int(args[args.index("--port") + 1])
    if not port_free(port):  # a real TWS (or another simulator) holds it: never disturb it
        args[args.index("--port") + 1] = "0"
        note = f" (port {port} is in use here, so with --port 0)"
    # Its own process group: npx runs ibkr-sim as a child, which outlives npx unless the group is stopped.
    sim = subprocess.Popen(
        args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    assert sim.stdout is not None
    ready, _, _ = select.select([sim.stdout], [], [], 30)
    line = sim.stdout.readline() if ready else ""
    match = re.search(r"ibkr-sim listening on 127\.0\.0\.1:(\d+) \(server versions 157-176; accounts DU7654321\)", line)
    if not match:
        stop(sim)
        raise AssertionError(f"{command}: printed {line!r}")
    return sim, int(match.group(1)), note


def main() -> int:
    commands = readme_commands()
    failures: list[str] = []
    set_up = [c for c in commands if c.startswith("make ")]
    if set(set_up) != SET_UP:
        failures.append(f"the README's set-up commands are {set_up}, not exactly {sorted(SET_UP)}")
    else:
        print("ok   make demo, make test: the two set-up commands (check_demo.py runs make demo; CI runs make test)")
    sims = [c for c in commands if c.startswith("npx ibkr-sim")]
    doctors = [c for c in commands if c.startswith("npx ibkr-notebook doctor")]
    unknown = [c for c in commands if c not in set_up and c not in sims and c not in doctors]
    if unknown:
        failures.append(f"commands with no check here: {unknown}")
    for command in sims:
        sim, port, note = start_simulator(command)
        try:
            print(f"ok   {command}: listening on 127.0.0.1:{port}{note}")
            for doctor in doctors:
                args = shlex.split(doctor)
                if port != 7497:  # the simulator had to move: point doctor at it as a user would
                    args += ["--port", str(port)]
                result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=60)
                ready = re.search(r"Ready: connect\(\{ broker: \"ibkr-paper\"(, port: \d+)? \}\)", result.stdout)
                if result.returncode != 0 or not ready or "paper account: DU7654321" not in result.stdout:
                    failures.append(f"{doctor}: exit {result.returncode}\n{result.stdout}{result.stderr}")
                else:
                    print(f"ok   {doctor}: found the simulator, {ready.group(0)}")
        finally:
            stop(sim)
            deadline = time.monotonic() + 5
            while not port_free(port) and time.monotonic() < deadline:
                time.sleep(0.1)
            if not port_free(port):
                failures.append(f"{command}: port {port} still answers after the simulator was stopped")
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"readme commands: {len(commands) - len(failures)} ok, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
