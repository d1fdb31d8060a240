"""The Python baseline of the benchmark: ib_async's IB.connect() against ibkr-sim, timed.

IB.connect() is ib_async's connect-and-sync: the handshake, then positions, open orders, completed
orders and account updates together, then executions. "full" times exactly that (ib_async's
default); "like" asks only what the library's connect() asks (positions, this client's open orders,
executions), for a like-for-like figure. Each run is a fresh connection with its own client id;
`warmup` untimed runs first. Prints one JSON object: milliseconds of every timed run per mode.

    python ib_async_client.py PORT FIRST_CLIENT_ID WARMUP REPS EXPECTED_POSITIONS
"""

import gc
import json
import logging
import sys
import time

import ib_async
from ib_async.ib import StartupFetch, StartupFetchALL

MODES = {
    "full": StartupFetchALL,
    "like": StartupFetch.POSITIONS | StartupFetch.ORDERS_OPEN | StartupFetch.EXECUTIONS,
}


def one_run(port: int, client_id: int, fetch: StartupFetch, expected: int) -> float:
    ib = ib_async.IB()
    gc.collect()
    start = time.perf_counter()
    ib.connect("127.0.0.1", port, clientId=client_id, timeout=120, fetchFields=fetch, raiseSyncErrors=True)
    elapsed = (time.perf_counter() - start) * 1000
    count = len(ib.positions())
    ib.disconnect()
    if count != expected:
        raise SystemExit(f"ib_async: got {count} positions, expected {expected}")
    return elapsed


def main() -> None:
    port, client_id, warmup, reps, expected = (int(a) for a in sys.argv[1:6])
    logging.disable(logging.CRITICAL)  # ib_async logs every farm notice as a warning
    runs: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(warmup):
        for fetch in MODES.values():
            one_run(port, client_id, fetch, expected)
            client_id += 1
    for i in range(reps):
        # Alternate the order so that drift in the machine's load affects both alike.
        order = list(MODES.items()) if i % 2 == 0 else list(reversed(MODES.items()))
        for mode, fetch in order:
            runs[mode].append(one_run(port, client_id, fetch, expected))
            client_id += 1
    print(json.dumps({"version": ib_async.__version__, "python": sys.version.split()[0], "runs": runs}))


if __name__ == "__main__":
    main()
