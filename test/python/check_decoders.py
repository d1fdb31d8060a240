#!/usr/bin/env python3
"""ibkr-sim against the real Python TWS clients (DESIGN decision 8).

1. Decoders: every server message the simulator sends, encoded by the compiled codec at server
   versions 157, 163, 164, 166, 170 and 176 (dump_messages.cjs), is fed to ib_async's Decoder and,
   at 157 (its ceiling), to IB's ibapi 9.81 Decoder. Each decode must not fail, must call the
   expected wrapper callback with the values that were encoded, and must consume every field.
2. End to end: the real simulator process (demo account) is driven over a loopback socket by
   ib_async at several negotiated versions and by ibapi 9.81 (negotiates 157).

Run after the TypeScript build (kernel-lib/dist); exits non-zero with the reasons on any failure.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import re
import select
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

import ib_async
import ib_async.decoder
import ib_async.wrapper
import ibapi.client
import ibapi.comm
import ibapi.contract
import ibapi.decoder
import ibapi.order
import ibapi.wrapper

REPO = Path(__file__).resolve().parents[2]
DUMP_SCRIPT = Path(__file__).with_name("dump_messages.cjs")
SIM_CLI = REPO / "kernel-lib" / "dist" / "simulator" / "cli.js"
DEMO_SCENARIO = REPO / "notebooks" / "demo-account.json"

DECODER_VERSIONS = (157, 163, 164, 166, 170, 176)
IBAPI_VERSION = 157  # MAX_CLIENT_VER of ibapi 9.81.1, the newest IB publishes on PyPI
IB_ASYNC_E2E_VERSIONS = DECODER_VERSIONS
FRACTIONAL_SIZES = 163  # sizes are integers on the wire below this version
UNSET_DOUBLE = sys.float_info.max  # IB's "no value" double (both clients)
WAIT_SECONDS = 5.0
FARM_NOTICES = frozenset({2104, 2106, 2158})  # "farm connection is OK", sent on every connect


class CheckFailed(AssertionError):
    """A decoded value, callback or protocol step did not match what the simulator sent."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def same(what: str, got: Any, want: Any) -> None:
    expect(got == want, f"{what}: decoded {got!r}, sent {want!r}")


def wire_size(size: float, server_version: int) -> float:
    """A size as the simulator puts it on the wire: rounded like JS Math.round below 163."""
    return size if server_version >= FRACTIONAL_SIZES else math.floor(size + 0.5)


def unset_or(value: float | None) -> float:
    return UNSET_DOUBLE if value is None else value


# ── messages from the compiled codec ──────────────────────────────────────────────────────────


@dataclass
class Message:
    name: str  # "tickPrice[bid]": kind, then which sample
    fields: list[str]
    sample: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.name.split("[", 1)[0]


def encoded_messages(versions: tuple[int, ...]) -> dict[int, list[Message]]:
    out = subprocess.run(
        ["node", str(DUMP_SCRIPT), *map(str, versions)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if out.returncode != 0:
        raise CheckFailed(f"dump_messages.cjs failed (is kernel-lib/dist built?):\n{out.stderr}")
    dumped = json.loads(out.stdout)["versions"]
    return {int(v): [Message(**m) for m in messages] for v, messages in dumped.items()}


def frame_payload(fields: list[str]) -> bytes:
    """The payload of a frame as the simulator writes it: NUL-terminated UTF-8 fields."""
    return "".join(f"{f}\0" for f in fields).encode()


# ── decoding one message with a recording wrapper ─────────────────────────────────────────────


class Recorder:
    """Stands in for a client's wrapper: records every callback, checked against the real signature.

    A call with missing or extra arguments raises TypeError, as it would in the real wrapper; a
    callback the real wrapper lacks is absent here too.
    """

    def __init__(self, reference: type, **attributes: Any):
        self._reference = reference
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.__dict__.update(attributes)

    def __getattr__(self, name: str) -> Callable[..., None]:
        method = getattr(self._reference, name, None)
        if name.startswith("_") or not callable(method):
            raise AttributeError(name)

        def record(*args: Any) -> None:
            inspect.signature(method).bind(None, *args)
            self.calls.append((name, args))

        return record


@dataclass
class Decoded:
    calls: list[tuple[str, tuple[Any, ...]]]
    problems: list[str] = field(default_factory=list)

    def all(self, name: str) -> list[tuple[Any, ...]]:
        return [args for called, args in self.calls if called == name]

    def one(self, name: str) -> tuple[Any, ...]:
        found = self.all(name)
        names = [called for called, _ in self.calls]
        expect(len(found) == 1, f"expected one {name}() callback, got {len(found)} (calls: {names})")
        return found[0]


class LogCollector(logging.Handler):
    """Collects error records of the given loggers (the decoders log, rather than raise, most faults)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" [{type(record.exc_info[1]).__name__}: {record.exc_info[1]}]"
        self.messages.append(f"{record.name}: {text}")


@contextmanager
def collected_errors(*logger_names: str) -> Iterator[LogCollector]:
    collector = LogCollector()
    loggers = [logging.getLogger(name) for name in logger_names]
    saved = [(lg, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(collector)
        lg.propagate = False  # keep expected probe failures off stderr
    try:
        yield collector
    finally:
        for lg, propagate in saved:
            lg.removeHandler(collector)
            lg.propagate = propagate


class FieldCountingDecoder(ib_async.decoder.Decoder):
    """ib_async's Decoder, noting how many fields each generic ("wrap") handler reads.

    Those handlers zip their argument types with the fields and so ignore extra fields silently;
    the count is what lets the check say whether every field was consumed.
    """

    def wrap(self, methodName, types, skip=2):  # noqa: N803 (ib_async's names)
        handler = super().wrap(methodName, types, skip)
        handler.field_count = skip + len(types)
        return handler


def ib_async_decoder(server_version: int) -> tuple[FieldCountingDecoder, Recorder]:
    wrapper = Recorder(
        ib_async.wrapper.Wrapper,
        ib=SimpleNamespace(TimezoneTWS="UTC"),  # the simulator writes execution times in UTC
        defaultTimezone=timezone.utc,
    )
    return FieldCountingDecoder(wrapper, server_version), wrapper


def run_ib_async(fields: list[str], server_version: int) -> Decoded:
    decoder, wrapper = ib_async_decoder(server_version)
    with collected_errors("ib_async.Decoder") as log:
        decoder.interpret(list(fields))  # the decoder pops from the list it is given
    return Decoded(wrapper.calls, list(log.messages))


def decode_with_ib_async(fields: list[str], server_version: int) -> Decoded:
    """Decodes as ib_async's client does (split on NUL, then interpret); checks every field is read."""
    wire_fields = frame_payload(fields).decode().split("\0")[:-1]
    decoded = run_ib_async(wire_fields, server_version)
    decoded.problems += ib_async_unread_fields(wire_fields, server_version)
    return decoded


def ib_async_unread_fields(wire_fields: list[str], server_version: int) -> list[str]:
    """ib_async never complains about extra fields, so this asks in the way each handler allows."""
    decoder, _ = ib_async_decoder(server_version)
    field_count = getattr(decoder.handlers[int(wire_fields[0])], "field_count", None)
    if field_count is not None:
        if len(wire_fields) == field_count:
            return []
        return [f"ib_async reads {field_count} fields, the message has {len(wire_fields)}"]
    # Hand-written handlers unpack what they need and drop the rest: if the message still decodes
    # without its last field, that field was never read.
    if run_ib_async(wire_fields[:-1], server_version).problems:
        return []
    return ["ib_async decodes the message without its last field: trailing field unread"]


def decode_with_ibapi(fields: list[str], server_version: int) -> Decoded:
    """Decodes as ibapi's EClient.run does, with a field iterator we can inspect afterwards.

    ibapi's interpret() hands "proc" messages an iterator it keeps to itself, so the proc handler is
    called directly here with ours; "wrap" messages go through interpretWithSignature, which drops
    (and only logs) a message whose field count differs from the callback's parameters.
    """
    wire_fields = ibapi.comm.read_fields(frame_payload(fields))
    wrapper = Recorder(ibapi.wrapper.EWrapper)
    decoder = ibapi.decoder.Decoder(wrapper, server_version)
    handle = decoder.msgId2handleInfo[int(wire_fields[0])]
    problems: list[str] = []
    with collected_errors("ibapi") as log:
        try:
            if handle.wrapperMeth is not None:
                decoder.interpretWithSignature(wire_fields, handle)
            else:
                remaining = iter(wire_fields)
                handle.processMeth(decoder, remaining)
                unread = list(remaining)
                if unread:
                    problems.append(f"ibapi left {len(unread)} field(s) unread: {unread}")
        except Exception as error:  # any decoder exception is a finding
            problems.append(f"ibapi raised {type(error).__name__}: {error}")
    return Decoded(wrapper.calls, problems + log.messages)


# ── what each message must decode to ──────────────────────────────────────────────────────────

IB_ASYNC, IBAPI = "ib_async", "ibapi"
ADVANCED_ORDER_REJECT = 166  # error() carries advancedOrderRejectJson from here
SIZE_MIN_TICK = 163  # the only version whose contractDetails carries sizeMinTick
SIZE_RULES = 164  # contractDetails: minSize, sizeIncrement, suggestedSizeIncrement


@dataclass(frozen=True)
class Flat:
    """A message whose callback takes sample values in order; `sized` ones follow the size rule."""

    callback: str
    keys: tuple[str, ...] = ()
    sized: tuple[str, ...] = ()

    def values(self, sample: dict, sv: int) -> list:
        return [wire_size(sample[k], sv) if k in self.sized else sample[k] for k in self.keys]


FLAT_MESSAGES: dict[str, Flat] = {
    "nextValidId": Flat("nextValidId", ("orderId",)),
    "currentTime": Flat("currentTime", ("epochSeconds",)),
    "marketDataType": Flat("marketDataType", ("reqId", "marketDataType")),
    "tickSize": Flat("tickSize", ("reqId", "tickType", "size"), sized=("size",)),
    "tickString": Flat("tickString", ("reqId", "tickType", "value")),
    "tickGeneric": Flat("tickGeneric", ("reqId", "tickType", "value")),
    "tickSnapshotEnd": Flat("tickSnapshotEnd", ("reqId",)),
    "contractDetailsEnd": Flat("contractDetailsEnd", ("reqId",)),
    "positionEnd": Flat("positionEnd"),
    "accountSummary": Flat("accountSummary", ("reqId", "account", "tag", "value", "currency")),
    "accountSummaryEnd": Flat("accountSummaryEnd", ("reqId",)),
    "accountValue": Flat("updateAccountValue", ("key", "value", "currency", "account")),
    "accountUpdateTime": Flat("updateAccountTime", ("time",)),
    "accountDownloadEnd": Flat("accountDownloadEnd", ("account",)),
    "accountUpdateMulti": Flat(
        "accountUpdateMulti", ("reqId", "account", "modelCode", "key", "value", "currency")
    ),
    "accountUpdateMultiEnd": Flat("accountUpdateMultiEnd", ("reqId",)),
    "pnl": Flat("pnl", ("reqId", "dailyPnl", "unrealizedPnl", "realizedPnl")),
    "pnlSingle": Flat(
        "pnlSingle",
        ("reqId", "position", "dailyPnl", "unrealizedPnl", "realizedPnl", "value"),
        sized=("position",),
    ),
    "openOrderEnd": Flat("openOrderEnd"),
    "orderStatus": Flat(
        "orderStatus",
        tuple(
            "orderId status filled remaining avgFillPrice permId parentId lastFillPrice clientId whyHeld"
            " mktCapPrice".split()
        ),
    ),
    "execDetailsEnd": Flat("execDetailsEnd", ("reqId",)),
    "completedOrdersEnd": Flat("completedOrdersEnd"),
}

# The size tick ibapi derives from a tickPrice's embedded size (ib_async reports both in one call).
SIZE_TICK_OF_PRICE_TICK = {1: 0, 2: 3, 4: 5}  # bid → bid size, ask → ask size, last → last size

# openOrder has no version field and grows at these versions (research: tws-versions-157-176.md §2).
OPEN_ORDER_FIELDS = ((170, 128), (162, 123), (160, 122), (158, 121), (157, 120))


def open_order_field_count(server_version: int) -> int:
    return next(count for since, count in OPEN_ORDER_FIELDS if server_version >= since)


def check_flat(decoded: Decoded, message: Message, sv: int, client: str) -> None:
    flat = FLAT_MESSAGES[message.kind]
    same(f"{flat.callback}() arguments", list(decoded.one(flat.callback)), flat.values(message.sample, sv))


def check_managed_accounts(decoded: Decoded, message: Message, sv: int, client: str) -> None:
    same("managedAccounts() list", decoded.one("managedAccounts")[0].split(","), message.sample["accounts"])


def check_error(decoded: Decoded, message: Message, sv: int, client: str) -> None:
    s = message.sample
    args = decoded.one("error")
    same("error() id, code, text", list(args[:3]), [s["id"], s["code"], s["message"]])
    if client == IB_ASYNC:
        json_sent = s["advancedOrderRejectJson"] if sv >= ADVANCED_ORDER_REJECT else ""
        same("error() advancedOrderRejectJson", args[3], json_sent)


def check_tick_price(decoded: Decoded, message: Message, sv: int, client: str) -> None:
    s = message.sample
    size = wire_size(s["size"], sv)
    if client == IB_ASYNC:
        same(
            "priceSizeTick() arguments",
            list(decoded.one("priceSizeTick")),
            [s["reqId"], s["tickType"], s["price"], size],
        )
        return
    req_id, tick_type, price, attrib = decoded.one("tickPrice")
    same("tickPrice() arguments", [req_id, tick_type, price], [s["reqId"], s["tickType"], s["price"]])
    same("tickPrice() canAutoExecute", attrib.canAutoExecute, bool(s["attrMask"] & 1))
    same(
        "tickSize() after tickPrice",
        list(decoded.one("tickSize")),
        [s["reqId"], SIZE_TICK_OF_PRICE_TICK[s["tickType"]], size],
    )


# Attributes compared between what was encoded and what a decoder built.
CONTRACT_KEYS = tuple(
    "conId symbol secType lastTradeDateOrContractMonth strike right multiplier currency localSymbol"
    " tradingClass".split()
)
DETAILS_KEYS = tuple(
    "marketName minTick orderTypes validExchanges longName contractMonth industry category subcategory"
    " timeZoneId tradingHours liquidHours underConId underSymbol underSecType marketRuleIds"
    " realExpirationDate stockType".split()
)
ORDER_KEYS = tuple(
    "orderId clientId permId parentId action totalQuantity orderType tif account orderRef outsideRth"
    " whatIf".split()
)
ORDER_STATE_TEXT_KEYS = tuple(
    "initMarginChange maintMarginChange equityWithLoanChange initMarginAfter maintMarginAfter"
    " equityWithLoanAfter commissionCurrency warningText".split()
)
EXECUTION_KEYS = tuple(
    "orderId execId exchange side shares price permId clientId liquidation cumQty avgPrice orderRef"
    " lastLiquidity".split()
)


def same_contract(what: str, contract: Any, sent: dict, keys: tuple[str, ...] = CONTRACT_KEYS) -> None:
    for key in keys:
        same(f"{what}.{key}", getattr(contract, key), sent[key])


def check_contract_details(decoded: Decoded, message: Message, sv: int, client: str) -> None:
    sent = message.sample["details"]
    req_id, details = decoded.one("contractDetails")
    same("contractDetails() reqId", req_id, message.sample["reqId"])
    same_contract(
        "contract", details.contract, sent["contract"], (*CONTRACT_KEYS, "exchange", "primaryExchange")
    )
    for key in DETAILS_KEYS:
        same(f"details.{key}", getattr(details, key), sent[key])
    if client == IB_ASYNC and sv == SIZE_MIN_TICK:
        # Only 163 carries sizeMinTick; ib_async stores it in suggestedSizeIncrement.
        same("details.sizeMinTick", details.suggestedSizeIncrement, sent["minSize"])
    if client == IB_ASYNC and sv >= SIZE_RULES:
        for key in ("minSize", "sizeIncrement", "suggestedSizeIncrement"):
            same(f"details.{key}", getattr(details, key), sent[key])


def same_bar(what: str, bar: Any, sent: dict, sv: int) -> None:
    same(f"{what} date", bar.date, sent["time"])
    same(
        f"{what} open/high/low/close",
        [bar.open, bar.high, bar.low, bar.close],
        [sent["open"], sent["high"], sent["low"], sent["close"]],
    )
    same(f"{what} volume", bar.volume, wire_size(sent["volume"], sv))
    same(f"{what} wap", bar.average, sent["wap"])
    same(f"{what} count", bar.barCount, sent["count"])


def check_historical_data(decoded: Decoded, message: Message, sv: int, client: str) -> None:
    s = message.sample
    bars = decoded.all("historicalData")
    same("historicalData() bars", len(bars), len(s["bars"]))
    for i, ((req_id, bar), sent) in enumerate(zip(bars, s["bars"], strict=True)):
        same(f"bar {i} reqId", req_id, s["reqId"])
        same_bar(f"bar {i}", bar, sent, sv)
    same(
        "historicalDataEnd() arguments",
        list(decoded.one("historicalDataEnd")),
        [s["reqId"], s["start"], s["end"]],
    )


def check_historical_update(decoded: Decoded, message: Message, sv: int, client: str) -> None:
    req_id, bar = decoded.one("historicalDataUpdate")
    same("historicalDataUpdate() reqId", req_id, message.sample["reqId"])
    same_bar("updated bar", bar, message.sample["bar"], sv)


def check_position(decoded: Decoded, message: Message, sv: int, client: str) -> None:
    s = message.sample
    account, contract, position, avg_cost = decoded.one("position")
    same(
        "position() account, position, avgCost",
        [account, position, avg_cost],
        [s["account"], s["position"], s["avgCost"]],
    )
    same_contract("contract", contract, s["contract"], (*CONTRACT_KEYS, "exchange"))


def check_portfolio_value(decoded: Decoded, message: Message, sv: int, client: str) -> None:
    s = message.sample
    contract, *values = decoded.one("updatePortfolio")
    sent = [
        s["position"],
        s["marketPrice"],
        s["marketValue"],
        s["averageCost"],
        s["unrealizedPnl"],
        s["realizedPnl"],
        s["account"],
    ]
    same("updatePortfolio() values", values, sent)
    same_contract("contract", contract, s["contract"], (*CONTRACT_KEYS, "primaryExchange"))


def check_open_order(decoded: Decoded, message: Message, sv: int, client: str) -> None:
    s = message.sample
    same("openOrder field count", len(message.fields), open_order_field_count(sv))
    order_id, contract, order, state = decoded.one("openOrder")
    same("openOrder() orderId", order_id, s["orderId"])
    same_contract("contract", contract, s["contract"], (*CONTRACT_KEYS, "exchange"))
    for key in ORDER_KEYS:
        same(f"order.{key}", getattr(order, key), s[key])
    same("order.lmtPrice", order.lmtPrice, unset_or(s.get("lmtPrice")))
    same("order.auxPrice", order.auxPrice, unset_or(s.get("auxPrice")))
    same("orderState.status", state.status, s["status"])
    sent_state = s["state"]
    for key in ORDER_STATE_TEXT_KEYS:
        same(f"orderState.{key}", getattr(state, key), sent_state.get(key, ""))
    for key in ("commission", "minCommission", "maxCommission"):
        same(f"orderState.{key}", getattr(state, key), unset_or(sent_state.get(key)))


def check_exec_details(decoded: Decoded, message: Message, sv: int, client: str) -> None:
    s = message.sample
    sent = s["execution"]
    req_id, contract, execution = decoded.one("execDetails")
    same("execDetails() reqId", req_id, s["reqId"])
    same_contract("contract", contract, sent["contract"], (*CONTRACT_KEYS, "exchange"))
    for key in EXECUTION_KEYS:
        same(f"execution.{key}", getattr(execution, key), sent[key])
    same("execution.acctNumber", execution.acctNumber, sent["account"])
    if client == IB_ASYNC:  # ib_async parses the time; ibapi hands over the text
        sent_time = datetime.strptime(sent["time"], "%Y%m%d  %H:%M:%S").replace(tzinfo=timezone.utc)
        same("execution.time", execution.time, sent_time)
    else:
        same("execution.time", execution.time, sent["time"])


def check_commission_report(decoded: Decoded, message: Message, sv: int, client: str) -> None:
    s = message.sample
    (report,) = decoded.one("commissionReport")
    got = [
        report.execId,
        report.commission,
        report.currency,
        report.realizedPNL,
        report.yield_,
        report.yieldRedemptionDate,
    ]
    # IB sends DBL_MAX for "no realized P&L" (an opening fill) and for the yield of a non-bond.
    sent = [s["execId"], s["commission"], s["currency"], unset_or(s.get("realizedPnl")), UNSET_DOUBLE, 0]
    same("commissionReport fields", got, sent)


MESSAGE_CHECKS: dict[str, Callable[[Decoded, Message, int, str], None]] = {
    **dict.fromkeys(FLAT_MESSAGES, check_flat),
    "managedAccounts": check_managed_accounts,
    "error": check_error,
    "tickPrice": check_tick_price,
    "contractDetails": check_contract_details,
    "historicalData": check_historical_data,
    "historicalDataUpdate": check_historical_update,
    "position": check_position,
    "portfolioValue": check_portfolio_value,
    "openOrder": check_open_order,
    "execDetails": check_exec_details,
    "commissionReport": check_commission_report,
}

DECODERS: dict[str, Callable[[list[str], int], Decoded]] = {
    IB_ASYNC: decode_with_ib_async,
    IBAPI: decode_with_ibapi,
}


def check_message(message: Message, sv: int, client: str) -> None:
    decoded = DECODERS[client](message.fields, sv)
    expect(not decoded.problems, "; ".join(decoded.problems))
    MESSAGE_CHECKS[message.kind](decoded, message, sv, client)


def check_all_decoders(messages: dict[int, list[Message]], failures: list[str]) -> dict[str, int]:
    """Every message x version x decoder; returns how many decodes passed per decoder."""
    passed: dict[str, int] = defaultdict(int)
    for sv, batch in messages.items():
        clients = (IB_ASYNC, IBAPI) if sv <= IBAPI_VERSION else (IB_ASYNC,)
        for message in batch:
            if message.kind not in MESSAGE_CHECKS:
                failures.append(f"@{sv} {message.name}: check_decoders.py has no check for this message")
                continue
            for client in clients:
                try:
                    check_message(message, sv, client)
                    passed[client] += 1
                except CheckFailed as failure:
                    failures.append(f"{client} @{sv} {message.name}: {failure}\n    fields: {message.fields}")
    return passed


# ── the simulator process ─────────────────────────────────────────────────────────────────────

LISTENING = re.compile(r"ibkr-sim listening on 127\.0\.0\.1:(\d+)")


@contextmanager
def running_simulator(scenario: Path = DEMO_SCENARIO) -> Iterator[int]:
    """Starts `ibkr-sim` on a free loopback port; yields the port; always stops the process.

    Its stderr goes to a file, not a pipe nobody drains, and is shown if it dies on its own.
    """
    command = ["node", str(SIM_CLI), "--port", "0", "--quiet", "--tick-ms", "50", "--scenario", str(scenario)]
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            yield listening_port(process, stderr)
        finally:
            exit_code = process.poll()  # None while it runs, as it should until we stop it
            stop(process)
            if exit_code is not None:
                during = sys.exc_info()[1]  # what failed because of it, if anything
                context = f" ({during})" if during else ""
                raise CheckFailed(f"ibkr-sim exited by itself, code {exit_code}{context}: {read_all(stderr)}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=3)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=3)
    process.stdout.close()


def listening_port(process: subprocess.Popen, stderr: IO[str], timeout: float = 10.0) -> int:
    """The port from ibkr-sim's first line, "ibkr-sim listening on 127.0.0.1:PORT (...)"."""
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if ready else ""
    match = LISTENING.search(line)
    if not match:
        raise CheckFailed(f"ibkr-sim did not start: stdout {line!r}, stderr {read_all(stderr)!r}")
    return int(match.group(1))


def read_all(file: IO[str]) -> str:
    file.seek(0)
    return file.read().strip()


def instrument_key(contract: Any) -> str:
    """The scenario's name for a contract: the symbol, the pair, or the option's short form."""
    if contract.secType == "CASH":
        return contract.localSymbol
    if contract.secType == "OPT":
        expiry = contract.lastTradeDateOrContractMonth[2:]
        return f"{contract.symbol} {expiry}{contract.right[0]}{contract.strike:g}"
    return contract.symbol


# ── end to end: ib_async ──────────────────────────────────────────────────────────────────────

E2E_CLIENT_ID = 2  # the demo scenario's open orders belong to client 2


@dataclass
class Reference:
    """What the simulator starts with: contract details as encoded, and the demo scenario."""

    account: str
    details: dict[str, dict]  # instrument key → contract details
    positions: dict[str, tuple[float, float]]  # instrument key → (quantity, avgCost)
    open_order_ids: set[int]  # E2E_CLIENT_ID's working orders

    def con_id(self, key: str) -> int:
        return self.details[key]["contract"]["conId"]


def reference_from(messages: list[Message]) -> Reference:
    details = {
        m.name[len("contractDetails[") : -1]: m.sample["details"]
        for m in messages
        if m.kind == "contractDetails"
    }
    scenario = json.loads(DEMO_SCENARIO.read_text())
    (account,) = scenario["accounts"]
    positions = {p["contract"]: (p["quantity"], p["avgCost"]) for p in account["positions"]}
    orders = {o["orderId"] for o in scenario["openOrders"] if o["clientId"] == E2E_CLIENT_ID}
    return Reference(account["id"], details, positions, orders)


class IbAsyncSession:
    """One ib_async connection to the simulator, negotiated at `version`, watching for errors."""

    def __init__(self, port: int, version: int, client_id: int):
        self.ib = ib_async.IB()
        self.ib.client.MaxClientVersion = version  # ib_async offers v157..<this>
        self.errors: list[tuple[int, int, str]] = []
        self.allowed_errors = set(FARM_NOTICES)
        self.ib.errorEvent += lambda req_id, code, text, _contract: self.errors.append((req_id, code, text))
        self.port, self.client_id = port, client_id

    def connect(self) -> None:
        """Connects and runs ib_async's startup sync; a sync request that times out fails here."""
        try:
            self.ib.connect(
                "127.0.0.1", self.port, clientId=self.client_id, timeout=WAIT_SECONDS, raiseSyncErrors=True
            )
        except (ConnectionError, TimeoutError) as error:
            raise CheckFailed(f"connect and startup sync: {error!r}") from error
        self.ib.RequestTimeout = WAIT_SECONDS  # otherwise a request nobody answers waits forever

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            expect(time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}")
            expect(self.ib.isConnected(), f"disconnected while waiting for {what}")
            self.ib.sleep(0.02)

    def unexpected_errors(self) -> list[tuple[int, int, str]]:
        return [e for e in self.errors if e[1] not in self.allowed_errors]


def stock(symbol: str) -> ib_async.Stock:
    return ib_async.Stock(symbol, "SMART", "USD")


def qualified(s: IbAsyncSession, contract: ib_async.Contract) -> ib_async.Contract:
    """The contract with its conId filled in (ib_async keys tickers and trades by it)."""
    (found,) = s.ib.qualifyContracts(contract)
    expect(found is not None and found.conId > 0, f"could not qualify {contract}")
    return found


def step_connect(s: IbAsyncSession, ref: Reference, version: int) -> str:
    same("negotiated server version", s.ib.client.serverVersion(), version)
    same("managed accounts", s.ib.managedAccounts(), [ref.account])
    open_ids = {t.order.orderId for t in s.ib.openTrades()}
    same("open orders after the startup sync", open_ids, ref.open_order_ids)
    return "connect+startup sync"


def step_positions(s: IbAsyncSession, ref: Reference, version: int) -> str:
    held = {instrument_key(p.contract): (p.position, p.avgCost) for p in s.ib.positions()}
    same("positions", held, ref.positions)
    return "positions"


def step_account(s: IbAsyncSession, ref: Reference, version: int) -> str:
    values = {v.tag: v.value for v in s.ib.accountValues() if v.currency in ("USD", "")}
    summary = {v.tag: v.value for v in s.ib.accountSummary()}
    expect(float(values.get("NetLiquidation", "0")) > 0, f"accountValues has no NetLiquidation: {values}")
    expect(float(summary.get("NetLiquidation", "0")) > 0, f"accountSummary has no NetLiquidation: {summary}")
    same(
        "TotalCashValue: accountSummary vs accountValues", summary["TotalCashValue"], values["TotalCashValue"]
    )
    return "account values+summary"


def step_contract_details(s: IbAsyncSession, ref: Reference, version: int) -> str:
    for key, contract in (("AAPL", stock("AAPL")), ("EUR.USD", ib_async.Forex("EURUSD"))):
        found = s.ib.reqContractDetails(contract)
        same(f"contract details found for {key}", len(found), 1)
        sent = ref.details[key]
        same_contract(key, found[0].contract, sent["contract"], (*CONTRACT_KEYS, "exchange"))
        same(f"{key} longName", found[0].longName, sent["longName"])
        same(f"{key} minTick", found[0].minTick, sent["minTick"])
    return "contract details (stock, forex)"


STREAMED_UPDATES = 3  # ticker updates to see; the simulator steps every 50 ms


def is_quoted(ticker: ib_async.Ticker) -> bool:
    return all(x > 0 for x in (ticker.bid, ticker.ask, ticker.last))  # NaN until received


def step_streaming(s: IbAsyncSession, ref: Reference, version: int) -> str:
    contract = qualified(s, stock("AAPL"))
    ticker = s.ib.reqMktData(contract)
    updates = []
    ticker.updateEvent += updates.append
    s.wait(lambda: is_quoted(ticker) and len(updates) >= STREAMED_UPDATES, "streaming AAPL ticks")
    expect(ticker.bid <= ticker.ask, f"crossed quote {ticker.bid} / {ticker.ask}")
    expect(ticker.bidSize > 0 and ticker.askSize > 0, "no bid/ask sizes")
    if version < FRACTIONAL_SIZES:
        expect(float(ticker.bidSize).is_integer(), f"fractional size {ticker.bidSize} below 163")
    s.ib.cancelMktData(contract)
    return "streaming quotes"


def step_snapshot(s: IbAsyncSession, ref: Reference, version: int) -> str:
    (ticker,) = s.ib.reqTickers(qualified(s, stock("MSFT")))  # snapshot; completes on tickSnapshotEnd
    expect(is_quoted(ticker), f"incomplete snapshot {ticker}")
    return "snapshot"


def step_history(s: IbAsyncSession, ref: Reference, version: int) -> str:
    bars = s.ib.reqHistoricalData(
        qualified(s, stock("AAPL")), "", "1 D", "1 hour", "TRADES", useRTH=False, timeout=WAIT_SECONDS
    )
    expect(len(bars) > 0, "no historical bars")
    for bar in bars:
        expect(bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high, f"bad bar {bar}")
        if version < FRACTIONAL_SIZES:
            expect(float(bar.volume).is_integer(), f"fractional volume {bar.volume} below 163")
    return "historical bars"


def last_price(s: IbAsyncSession, contract: ib_async.Contract) -> float:
    (ticker,) = s.ib.reqTickers(contract)
    return ticker.last


def step_limit_and_cancel(s: IbAsyncSession, ref: Reference, version: int) -> str:
    contract = qualified(s, stock("AAPL"))
    far_below = round(last_price(s, contract) * 0.8, 2)
    trade = s.ib.placeOrder(contract, ib_async.LimitOrder("BUY", 5, far_below))
    s.wait(lambda: trade.orderStatus.status == "Submitted", "the limit order to work (Submitted)")
    s.allowed_errors.add(202)  # "Order Canceled - reason:" accompanies the cancel
    s.ib.cancelOrder(trade.order)
    s.wait(lambda: trade.orderStatus.status == "Cancelled", "the cancel (Cancelled)")
    return "limit order+cancel"


def held(s: IbAsyncSession, contract: ib_async.Contract) -> float | None:
    return next((p.position for p in s.ib.positions() if p.contract.conId == contract.conId), None)


MARKET_BUY = 3  # AAPL shares the market order buys (the P&L step expects them held)


def step_market_fill(s: IbAsyncSession, ref: Reference, version: int) -> str:
    contract = qualified(s, stock("AAPL"))
    held_after = ref.positions["AAPL"][0] + MARKET_BUY
    trade = s.ib.placeOrder(contract, ib_async.MarketOrder("BUY", MARKET_BUY))
    s.wait(lambda: trade.orderStatus.status == "Filled", "the market order to fill")
    s.wait(lambda: trade.fills and all(f.commissionReport.execId for f in trade.fills), "commission reports")
    same("filled shares", sum(f.execution.shares for f in trade.fills), MARKET_BUY)
    expect(all(f.commissionReport.commission > 0 for f in trade.fills), "zero commission")
    s.wait(lambda: held(s, contract) == held_after, f"the AAPL position to become {held_after}")
    return "market order fill+commission"


def step_pnl(s: IbAsyncSession, ref: Reference, version: int) -> str:
    pnl = s.ib.reqPnL(ref.account)
    s.wait(lambda: not math.isnan(pnl.dailyPnL) and not math.isnan(pnl.unrealizedPnL), "reqPnL values")
    conid = ref.con_id("AAPL")
    single = s.ib.reqPnLSingle(ref.account, "", conid)
    held_after = ref.positions["AAPL"][0] + MARKET_BUY
    s.wait(lambda: single.position == held_after and not math.isnan(single.value), "reqPnLSingle for AAPL")
    s.ib.cancelPnL(ref.account)
    s.ib.cancelPnLSingle(ref.account, "", conid)
    return "pnl+pnlSingle"


def step_what_if(s: IbAsyncSession, ref: Reference, version: int) -> str:
    contract = qualified(s, stock("AAPL"))
    price = round(last_price(s, contract), 2)
    state = s.ib.whatIfOrder(contract, ib_async.LimitOrder("BUY", 10, price))
    expect(isinstance(state, ib_async.OrderState), f"whatIfOrder returned {state!r}")
    expect(float(state.initMarginChange) > 0, f"no margin impact in {state}")
    expect(0 < state.commission < UNSET_DOUBLE, f"no commission in {state}")
    return "whatIf"


IB_ASYNC_STEPS = (
    step_connect,
    step_positions,
    step_account,
    step_contract_details,
    step_streaming,
    step_snapshot,
    step_history,
    step_limit_and_cancel,
    step_market_fill,
    step_pnl,
    step_what_if,
)


def run_steps(steps: tuple[Callable[..., str], ...], passed: list[str], *args: Any) -> None:
    """Runs steps in order, appending each one's description to `passed`; a failure names its step."""
    for step in steps:
        name = step.__name__.removeprefix("ibapi_").removeprefix("step_")
        try:
            passed.append(step(*args))
        except TimeoutError as error:  # an ib_async request unanswered for RequestTimeout
            raise CheckFailed(f"{name}: a request got no answer within {WAIT_SECONDS:g} s") from error
        except CheckFailed as failure:
            raise CheckFailed(f"{name}: {failure}") from failure


def ib_async_round(version: int, ref: Reference) -> list[str]:
    """Every step, in order, against a fresh simulator; returns the steps that passed."""
    passed: list[str] = []
    with running_simulator() as port, collected_errors("ib_async") as log:
        session = IbAsyncSession(port, version, client_id=E2E_CLIENT_ID)
        try:
            session.connect()
            run_steps(IB_ASYNC_STEPS, passed, session, ref, version)
            unexpected = session.unexpected_errors()
            expect(not unexpected, f"unexpected TWS errors: {unexpected}")
            # ib_async logs decoder faults and sync time-outs rather than raising them.
            not_tws = [m for m in log.messages if not m.startswith("ib_async.wrapper:")]
            expect(not not_tws, f"ib_async logged errors: {not_tws}")
        finally:
            session.ib.disconnect()
    return passed


# ── end to end: IB's ibapi 9.81 ───────────────────────────────────────────────────────────────


class IbapiProbe(ibapi.wrapper.EWrapper, ibapi.client.EClient):
    """ibapi's client with a wrapper that records the callbacks the steps wait for."""

    RECORDED = (
        "nextValidId", "position", "positionEnd", "tickPrice", "orderStatus", "execDetails",
        "commissionReport", "contractDetails", "contractDetailsEnd", "historicalData", "historicalDataEnd",
    )  # fmt: skip

    def __init__(self) -> None:
        ibapi.wrapper.EWrapper.__init__(self)
        ibapi.client.EClient.__init__(self, wrapper=self)
        self.received: dict[str, list[tuple]] = defaultdict(list)
        self.errors: list[tuple[int, int, str]] = []
        self.crash: BaseException | None = None
        self.loop: threading.Thread | None = None
        self.changed = threading.Condition()
        for name in self.RECORDED:
            setattr(self, name, self._recorder(name))

    def _recorder(self, name: str) -> Callable[..., None]:
        def record(*args: Any) -> None:
            with self.changed:
                self.received[name].append(args)
                self.changed.notify_all()

        return record

    def error(self, reqId: int, errorCode: int, errorString: str) -> None:  # noqa: N803 (IB's names)
        self.errors.append((reqId, errorCode, errorString))

    def run_loop(self) -> None:
        """EClient.run, keeping what killed it: a decode error there ends the loop and the connection."""
        try:
            self.run()
        except Exception as error:  # wait() reports it
            self.crash = error

    def start(self, port: int, client_id: int) -> None:
        self.connect("127.0.0.1", port, clientId=client_id)
        self.loop = threading.Thread(target=self.run_loop, name="ibapi-message-loop", daemon=True)
        self.loop.start()

    def stop(self) -> None:
        self.disconnect()
        self.loop.join(timeout=3)

    def wait(self, name: str, what: str, match: Callable[..., bool] = lambda *a: True) -> tuple:
        """The latest `name` callback whose arguments `match`, waiting up to WAIT_SECONDS."""
        deadline = time.monotonic() + WAIT_SECONDS
        with self.changed:
            while True:
                found = [args for args in self.received[name] if match(*args)]
                if found:
                    return found[-1]
                if not self.isConnected() or time.monotonic() > deadline:
                    break
                self.changed.wait(0.05)
        expect(self.isConnected(), f"ibapi disconnected while waiting for {what}{self.cause_of_death()}")
        raise CheckFailed(f"timed out after {WAIT_SECONDS:g} s waiting for {what}")

    def cause_of_death(self) -> str:
        self.loop.join(timeout=1)  # EClient.run disconnects before its exception reaches run_loop
        return f" (its message loop died: {self.crash!r})" if self.crash else ""


def ibapi_stock(symbol: str) -> ibapi.contract.Contract:
    contract = ibapi.contract.Contract()
    contract.symbol, contract.secType, contract.exchange, contract.currency = symbol, "STK", "SMART", "USD"
    return contract


def ibapi_step_connect(app: IbapiProbe, ref: Reference) -> str:
    app.wait("nextValidId", "nextValidId")
    same("negotiated server version", app.serverVersion(), IBAPI_VERSION)
    return "connect"


def ibapi_step_positions(app: IbapiProbe, ref: Reference) -> str:
    app.reqPositions()
    app.wait("positionEnd", "positionEnd")
    held = {instrument_key(c): (quantity, cost) for _, c, quantity, cost in app.received["position"]}
    same("positions", held, ref.positions)
    return "positions"


def ibapi_step_market_data(app: IbapiProbe, ref: Reference) -> str:
    req_id = 1
    app.reqMktData(req_id, ibapi_stock("AAPL"), "", False, False, [])
    for tick_type, name in ((1, "bid"), (2, "ask"), (4, "last")):
        _, _, price, _ = app.wait("tickPrice", f"a {name} tick", lambda r, t, *_, want=tick_type: t == want)
        expect(price > 0, f"{name} price {price}")
    app.cancelMktData(req_id)
    return "market data"


def ibapi_step_market_fill(app: IbapiProbe, ref: Reference) -> str:
    (order_id,) = app.received["nextValidId"][-1]
    order = ibapi.order.Order()  # ibapi 9.81's defaults, eTradeOnly and firmQuoteOnly set included
    order.action, order.orderType, order.totalQuantity = "BUY", "MKT", 2
    app.placeOrder(order_id, ibapi_stock("AAPL"), order)
    _, _, execution = app.wait("execDetails", "execDetails", lambda r, c, e: e.orderId == order_id)
    app.wait("commissionReport", "commissionReport", lambda report: report.execId == execution.execId)
    app.wait(
        "orderStatus",
        "orderStatus Filled",
        lambda oid, status, filled, *_: (oid, status, filled) == (order_id, "Filled", order.totalQuantity),
    )
    return "market order fill"


def ibapi_step_contract_details(app: IbapiProbe, ref: Reference) -> str:
    req_id = 2
    app.reqContractDetails(req_id, ibapi_stock("AAPL"))
    app.wait("contractDetailsEnd", "contractDetailsEnd")
    (found,) = [details for r, details in app.received["contractDetails"] if r == req_id]
    same("AAPL conId", found.contract.conId, ref.con_id("AAPL"))
    return "contract details"


def ibapi_step_history(app: IbapiProbe, ref: Reference) -> str:
    req_id = 3
    app.reqHistoricalData(req_id, ibapi_stock("AAPL"), "", "1 D", "1 hour", "TRADES", 0, 1, False, [])
    app.wait("historicalDataEnd", "historicalDataEnd")
    expect(len(app.received["historicalData"]) > 0, "no historical bars")
    return "historical bars"


IBAPI_STEPS = (
    ibapi_step_connect,
    ibapi_step_positions,
    ibapi_step_market_data,
    ibapi_step_market_fill,
    ibapi_step_contract_details,
    ibapi_step_history,
)


def ibapi_round(ref: Reference) -> list[str]:
    """Every step, in order, against a fresh simulator; returns the steps that passed."""
    passed: list[str] = []
    with running_simulator() as port, collected_errors("ibapi") as log:
        app = IbapiProbe()
        app.start(port, E2E_CLIENT_ID)
        try:
            run_steps(IBAPI_STEPS, passed, app, ref)
            unexpected = [e for e in app.errors if e[1] not in FARM_NOTICES]
            expect(not unexpected, f"ibapi reported errors: {unexpected}")
            expect(not log.messages, f"ibapi logged errors: {log.messages}")
        finally:
            app.stop()
    return passed


# ── main ──────────────────────────────────────────────────────────────────────────────────────


def timed(run: Callable[[], Any]) -> tuple[Any, float]:
    start = time.monotonic()
    result = run()
    return result, time.monotonic() - start


def run_e2e(name: str, run: Callable[[], list[str]], failures: list[str]) -> None:
    try:
        steps, seconds = timed(run)
        print(f"  {name}: {len(steps)} steps passed ({', '.join(steps)}) [{seconds:.1f} s]")
    except CheckFailed as failure:
        failures.append(f"{name}: {failure}")
        print(f"  {name}: FAILED")
    except Exception:  # a client raising is a finding too; run the other rounds
        failures.append(f"{name}: {traceback.format_exc()}")
        print(f"  {name}: FAILED")


def main() -> int:
    started = time.monotonic()
    failures: list[str] = []

    messages = encoded_messages(DECODER_VERSIONS)
    passed, seconds = timed(lambda: check_all_decoders(messages, failures))
    count = len(messages[DECODER_VERSIONS[0]])
    versions = ", ".join(map(str, DECODER_VERSIONS))
    print(
        f"decoders: {count} messages x {len(DECODER_VERSIONS)} versions ({versions}): "
        f"ib_async {passed[IB_ASYNC]}/{count * len(DECODER_VERSIONS)}, "
        f"ibapi 9.81 {passed[IBAPI]}/{count} (@{IBAPI_VERSION}) [{seconds:.1f} s]"
    )

    print("end to end against ibkr-sim (demo account):")
    ref = reference_from(messages[DECODER_VERSIONS[-1]])
    for version in IB_ASYNC_E2E_VERSIONS:
        run_e2e(f"ib_async @{version}", lambda v=version: ib_async_round(v, ref), failures)
    run_e2e(f"ibapi 9.81 @{IBAPI_VERSION}", lambda: ibapi_round(ref), failures)

    elapsed = time.monotonic() - started
    if failures:
        print(f"\nFAILED: {len(failures)} problem(s) [{elapsed:.1f} s]", file=sys.stderr)
        for failure in failures:
            print(f"- {failure}", file=sys.stderr)
        return 1
    print(f"OK [{elapsed:.1f} s]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
