"""Fuzzed strings from the cluster and from the user, through every message qlocks builds: no live token, no limit
broken.

Each of ``STRINGS`` deterministic hostile strings (``random.Random(SEED)``: Slack control characters, mention/link
fragments, entities, bidi and zero-width characters, newlines, emoji, CJK, combining marks, empty and ~5k-character
strings) is put into every cluster field (path, holder, owner, client IP and host, node, access names, join note,
share name and path, cluster name, search notes, error descriptions, close messages, audit records) and into the
query, then rendered through ``search_message`` (several offsets, one page and three pages), the empty answers,
``confirm_close``, ``closed_block``, every ``messages`` text and the ``/qlocks`` listener itself (ack texts,
the ack, progress, the answer). Every output must pass ``check``:

1. no live token: in every text object and the notification ``text``, once qlocks' own mentions of *this* test's IDs
   are removed, no ``<`` or ``>`` at all and every ``&`` starts ``&amp;``/``&lt;``/``&gt;``; no raw bidi, zero-width
   or control character (a newline aside);
2. Block Kit limits: 1..50 blocks, unique block_ids, every block accepted by ``slack_sdk`` (``Block.parse(b)
   .to_dict()``), section text ≤ 3000, header ≤ 150, button text ≤ 75 and value ≤ 2000, confirm title ≤ 100,
   text ≤ 300, confirm/deny ≤ 30, every text object 1..3000, notification text 1..12,000.

A tally record per string: ``fuzzed strings: 10,000/10,000 rendered safely``. A few hundred fuzzed queries and a
simulator full of hostile names then go through the real app, and a small hypothesis property adds arbitrary text.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qlocks_tools.fakeslack import slack_escape
from slack_sdk.models.blocks import Block

from bot.audit import AuditRecord
from bot.locks.models import (
    CloseOutcome,
    CloseStatus,
    FileGroup,
    HandleRef,
    LockRow,
    Query,
    QueryKind,
    SearchResult,
)
from bot.locks.query import QueryError
from bot.qumulo.errors import (
    QumuloAuthError,
    QumuloConnectionError,
    QumuloError,
    QumuloNotFound,
    QumuloPermissionError,
    QumuloProtocolError,
    QumuloRequestError,
    QumuloServerError,
    QumuloTimeout,
    QumuloTLSError,
)
from bot.qumulo.mapping import error_from_response
from bot.slack import messages
from bot.slack.authz import Authorizer, GroupLookupError
from bot.slack.background import Inline
from bot.slack.blocks import (
    MAX_RESULTS,
    PAGE_NEXT_ACTION,
    Message,
    closed_block,
    search_message,
)
from bot.slack.deps import Deps, ProgressPolicy
from bot.slack.listeners.commands import on_command
from bot.slack.refs import decode_ref, encode_ref
from tests.attack import tally
from tests.slack.conftest import ADMIN, OPS, USER, Harness
from tests.slack.factories import NOW

SEED = 0x51_0C_C5
STRINGS = 10_000 * tally.SCALE
APP_QUERIES = 200 * tally.SCALE

# The only IDs qlocks writes as mentions in these renderings. The fuzz uses other IDs, so stripping these cannot hide
# a fuzzed token that leaked.
SEARCHER = "U0SEARCH1"
CLOSER = "U0CLOSER1"
OWN = re.compile(rf"<@(?:{SEARCHER}|{CLOSER}|{USER}|{ADMIN})>|<#{OPS}>")
# Raw characters that hide or reorder text: C0/C1 controls (a newline aside), zero-width, bidi, separators, BOM.
HIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)

# -- the hostile alphabet --------------------------------------------------------------------------------------------

SPECIALS = "<>&|@!#^*_~`:"
FRAGMENTS = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!channel|channel>",
    "<@U0VICTIM1>",
    "<@W0VICTIM2|dana>",
    "<#C0SECRET1>",
    "<#C0SECRET1|secret>",
    "<!subteam^S0ADMINS1|@admins>",
    "<!subteam^S0ADMINS1>",
    "<!date^1392734382^{date_num} {time_secs}|Feb 18>",
    "<http://x|y>",
    "<https://evil.example/login?next=/&a=1|Open the report>",
    "<mailto:ceo@corp.example|ceo>",
    "<tel:+15550100|call>",
    "<slack://open>",
    "&amp;lt;",
    "&amp;lt;!channel&amp;gt;",
    "&lt;!here&gt;",
    "&lt;",
    "&gt;",
    "&amp;",
    "&#60;",
    "&#x3C;!channel&#x3E;",
    "&",
    "@channel",
    "@here",
    "@everyone",
    "#general",
    "`",
    "```",
    "*bold*",
    "_it_",
    "~strike~",
    "> quoted",
    ":skull:",
    "\\",
    "\\\\cluster\\Finance\\",
    "smb://cluster/Finance/",
    "//cluster/share/",
    "user:",
    "ip:",
    "host:",
    "PRIVILEGE_SMB_FILE_HANDLE_READ",
    "PRIVILEGE_",
    "%3C!channel%3E",
    "\u202efdp.exe",
    "‮",
    "~$budget.xlsx",
    "<",
    ">",
    "<<>>",
    "<!",
    "<@",
    "|",
)
INVISIBLES = tuple(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + [chr(c) for c in range(0x200B, 0x2010)]
    + ["\ufeff", "\u2028", "\u2029", "\u00ad", "\u061c", "\u2060", "\x85"]
)
CONTROLS = ("\n", "\r", "\t", "\r\n", "\x00", "\x1b[31m", "\x7f", "\x0b")
EMOJI = ("😀", "👩\u200d💻", "🏳️\u200d🌈", "⚠️", "🔓", "✏️", "👍🏽", "🇫🇷", "🧨", "\u2764\ufe0f")
CJK = ("日本語のファイル", "漢字", "한국어", "中文文件名", "ｆｕｌｌｗｉｄｔｈ", "Ωμέγα", "שלום", "مرحبا")
COMBINING = ("\u0301", "\u0308", "\u20dd", "\u0336", "e\u0301", "Z\u0351\u0352\u0357\u035b\u0363\u0364")
WORDS = (
    "budget",
    "Finance",
    "dana",
    "CORP\\dana",
    "laptop-42",
    "10.1.2.3",
    "/projects/q3",
    "file.xlsx",
    " ",
    "  ",
)
PLAIN = string.ascii_letters + string.digits + " /.-_"

# Hand-picked strings first: the obvious attacks and the clipping edge cases (entities and \uXXXX across a cut).
KNOWN = (
    "",
    " ",
    "<!channel>",
    "<!here|here>",
    "<@U0VICTIM1>",
    "<!subteam^S0ADMINS1|@admins>",
    "<!date^0^{date}|x>",
    "<http://x|y>",
    "&lt;!channel&gt;",
    "&amp;lt;!channel&amp;gt;",
    "`<!channel>`",
    "```<!here>```",
    "*<!channel>*",
    "\u202efdp.exe",
    "\u202e<!channel>\u202c",
    "<\u200b!channel>",
    "<!chan\u200bnel>",
    "a" * 5000,
    "&" * 5000,
    "<" * 3000 + ">" * 2000,
    "\u202e" * 5000,
    "😀" * 2500,
    "<!channel>" * 500,
    "&amp;" * 1000,
    "x" * 59 + "&",
    "x" * 59 + "<!channel>",
    "\n" * 200,
    "`" * 300,
)


def hostile(rng: random.Random) -> str:
    """One hostile string: mostly short mixes, sometimes a long one (up to ~5k) cut at an arbitrary character."""
    roll = rng.random()
    if roll < 0.02:
        return ""
    if roll < 0.025:  # one character, many times: every clip lands on the same kind of piece
        repeated: str = rng.choice((*SPECIALS, *INVISIBLES, "😀", "漢", "\n", "`"))
        return repeated * rng.randint(1, 5000)
    if roll < 0.95:
        count, target = rng.randint(1, 12), None
    else:
        count, target = 10_000, rng.randint(200, 5000)
    out: list[str] = []
    size = 0
    for _ in range(count):
        pick = rng.random()
        if pick < 0.30:
            piece = rng.choice(FRAGMENTS)
            if rng.random() < 0.15:  # a token split by an invisible character
                cut = rng.randint(0, len(piece))
                piece = piece[:cut] + rng.choice(INVISIBLES) + piece[cut:]
        elif pick < 0.55:
            piece = rng.choice(SPECIALS)
        elif pick < 0.65:
            piece = rng.choice(INVISIBLES)
        elif pick < 0.69:
            piece = rng.choice(CONTROLS)
        elif pick < 0.74:
            piece = rng.choice(EMOJI)
        elif pick < 0.79:
            piece = rng.choice(CJK)
        elif pick < 0.83:
            piece = rng.choice(COMBINING)
        elif pick < 0.90:
            piece = rng.choice(WORDS)
        else:
            piece = "".join(rng.choice(PLAIN) for _ in range(rng.randint(1, 12)))
        out.append(piece)
        size += len(piece)
        if target is not None and size >= target:
            break
    s = "".join(out)
    return s[:target] if target is not None else s


def fuzzed_strings(n: int, seed: int = SEED) -> Iterator[str]:
    rng = random.Random(seed)
    yield from KNOWN[:n]
    for _ in range(n - min(n, len(KNOWN))):
        yield hostile(rng)


# -- the checks ------------------------------------------------------------------------------------------------------


# Anything that could be live once qlocks' own mentions are gone: a raw < or >, an & that starts no entity, or a
# hidden character.
_SUSPECT = re.compile(r"[<>]|&(?!(?:amp|lt|gt);)|" + HIDDEN.pattern)


def live_token(text: str) -> str | None:
    """Why ``text`` could render something live or hidden, or None."""
    bare = OWN.sub("", text) if "<@" in text or "<#" in text else text
    found = _SUSPECT.search(bare)
    if found is None:
        return None
    ch = found.group()
    if ch in "<>":
        return "raw < or >"
    if ch == "&":
        return "& that starts no entity"
    return f"raw hidden character U+{ord(ch):04X}"


def _text_objects(obj: Any) -> list[dict[str, Any]]:
    """Every composition text object anywhere in ``obj`` (``blockcheck.text_objects``, without the recursion)."""
    found: list[dict[str, Any]] = []
    stack = [obj]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            if item.get("type") in ("mrkdwn", "plain_text") and type(item.get("text")) is str:
                found.append(item)
            stack.extend(v for v in item.values() if type(v) in (dict, list))
        elif type(item) is list:
            stack.extend(v for v in item if type(v) in (dict, list))
    return found


def _len(obj: Any, key: str = "text") -> int:
    value = obj.get(key) if isinstance(obj, dict) else None
    if isinstance(value, dict):
        value = value.get("text")
    return len(value) if isinstance(value, str) else 0


@dataclass
class Checker:
    """Collects every problem of one fuzzed string's outputs (``where: why: excerpt``)."""

    problems: list[str] = field(default_factory=list)
    # Blocks slack_sdk already accepted for this string, without their block_id: slack_sdk checks a block_id's
    # length only, which ``_block`` checks itself, so a block rendered again under another block_id (the three-page
    # result repeats its rows, the empty answer the byline) needs no second parse.
    _accepted: dict[tuple[Any, int], list[dict[str, Any]]] = field(default_factory=dict)

    def fail(self, where: str, why: str, text: object = "") -> None:
        self.problems.append(f"{where}: {why}: {str(text)[:300]!r}")

    def text(self, where: str, text: object) -> None:
        """A notification / ack / ephemeral ``text``: live tokens and the 12,000 limit."""
        if not isinstance(text, str) or not text:
            self.fail(where, "empty or not a string", text)
            return
        if len(text) > 12_000:
            self.fail(where, f"text is {len(text):,} characters", text)
        why = live_token(text)
        if why:
            self.fail(where, why, text)

    def message(self, where: str, message: Message) -> None:
        self.text(f"{where} text", message.text)
        self.blocks(where, message.blocks)

    def blocks(self, where: str, blocks: Any) -> None:
        if not isinstance(blocks, list) or not 0 < len(blocks) <= 50:
            self.fail(where, f"{len(blocks) if isinstance(blocks, list) else blocks!r} blocks")
            return
        ids = [b.get("block_id") for b in blocks if isinstance(b, dict) and "block_id" in b]
        if len(ids) != len(set(ids)):
            self.fail(where, "duplicate block_id", ids)
        for i, block in enumerate(blocks):
            self._block(f"{where} block {i}", block)
        for obj in _text_objects(blocks):
            text = obj["text"]
            if not 0 < len(text) <= 3000:
                self.fail(where, f"{obj['type']} text of {len(text)} characters", text)
            if obj["type"] == "mrkdwn" and obj.get("verbatim") is not True:
                self.fail(where, "mrkdwn without verbatim", text)
            why = live_token(text)
            if why:
                self.fail(where, why, text)

    def _block(self, where: str, block: dict[str, Any]) -> None:
        block_id = block.get("block_id")
        if block_id is not None and not (isinstance(block_id, str) and 0 < len(block_id) <= 255):
            self.fail(where, "bad block_id", block_id)
        content = {k: v for k, v in block.items() if k != "block_id"}
        seen = self._accepted.setdefault((block.get("type"), _len(block)), [])
        if content not in seen:
            try:
                parsed = Block.parse(block)
                assert parsed is not None, "unknown block type"
                parsed.to_dict()
            except Exception as exc:
                self.fail(where, f"slack_sdk: {type(exc).__name__}: {exc}", block)
                return
            seen.append(content)
        kind = block.get("type")
        if kind == "section" and _len(block) > 3000:
            self.fail(where, "section text over 3000", block["text"]["text"])
        if kind == "header" and _len(block) > 150:
            self.fail(where, "header over 150", block["text"]["text"])
        elements = list(block.get("elements") or [])
        if kind == "context" and len(elements) > 10:
            self.fail(where, "context with more than 10 elements")
        if kind == "actions" and len(elements) > 25:
            self.fail(where, "actions with more than 25 elements")
        if "accessory" in block:
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") == "button":
                self._button(where, element)

    def _button(self, where: str, button: dict[str, Any]) -> None:
        if _len(button) > 75:
            self.fail(where, "button text over 75", button["text"])
        if len(button.get("value") or "") > 2000:
            self.fail(where, f"button value of {len(button['value'])}", button["value"][:100])
        confirm = button.get("confirm")
        if confirm is not None:
            self.confirm(where, confirm)

    def confirm(self, where: str, confirm: dict[str, Any]) -> None:
        for key, limit in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)):
            if not 0 < _len(confirm, key) <= limit:
                self.fail(where, f"confirm {key} of {_len(confirm, key)} characters (limit {limit})", confirm)


# -- the domain records a fuzzed string goes into --------------------------------------------------------------------


def full_row(s: str, location: str = "loc-1") -> LockRow:
    """Every cluster field of a row is ``s``."""
    return LockRow(
        ref=HandleRef(location=location, file_number="7340102", owner=s, path=s),
        holder=s,
        client_ip=s,
        client_host=s,
        access=(s, "write"),
        share_mode=(s,),
        node=s,
        session_open_s=7200.0,
        session_idle_s=60.0,
        note=s,
    )


def bare_row(s: str) -> LockRow:
    """The other branches: no holder name (the owner is shown), no client IP, no node, no times, no note."""
    return LockRow(
        ref=HandleRef(location="loc-2", file_number="7340103", owner=s, path=s),
        holder="",
        client_ip=None,
        client_host=s,
        access=(),
        share_mode=(),
        node=None,
        session_open_s=None,
        session_idle_s=None,
    )


def result_for(
    s: str, query: Query, groups: list[tuple[int, LockRow]], *, omitted: int = 0, **kw: Any
) -> SearchResult:
    files = tuple(
        FileGroup(file_number=f"{i}", path=s, share=s, share_path=s, rows=(row,) * count)
        for i, (count, row) in enumerate(groups)
    )
    return SearchResult(
        query=query,
        files=files,
        cluster=s,
        as_of=NOW - 12,
        scanned_handles=40_000,
        resolved_path="/" + s,
        omitted_handles=omitted,
        notes=(s, s[::-1]),
        **kw,
    )


def query_of(s: str) -> Query:
    return Query(kind=QueryKind.FRAGMENT, value=s, text=s)


def _cluster_said(status: int) -> Callable[[str], Exception]:
    """The error the client raises when the cluster answers ``status`` with ``s`` as its error class and text."""

    def make(s: str) -> Exception:
        body = json.dumps({"error_class": s, "description": s}).encode()
        return error_from_response(status, body, endpoint=s)

    return make


# ``s`` as the text of every error a search or a close can end in (built only when used).
ERRORS: tuple[Callable[[str], Exception], ...] = (
    QueryError,
    QumuloTLSError,
    QumuloTimeout,
    QumuloConnectionError,
    QumuloAuthError,
    # The cluster's 403 text names the privileges: as many as it likes.
    lambda s: QumuloPermissionError(s, missing_privileges=tuple(s.split(" "))),
    QumuloNotFound,
    QumuloRequestError,
    QumuloServerError,
    QumuloProtocolError,
    QumuloError,
    RuntimeError,
    *(_cluster_said(status) for status in (401, 403, 404, 418, 503)),
)


@dataclass
class Recorder:
    """An ``ack`` and a ``respond`` that keep what they were given."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return _Accepted()


class _Accepted:
    status_code = 200
    body = "ok"


class StubService:
    """``LockService.search`` answering every parsed query with the fuzzed cluster's records."""

    def __init__(self, s: str, mode: int) -> None:
        self.s = s
        self.mode = mode

    def search(self, query: Query, *, progress: Callable[[int], None] | None = None) -> SearchResult:
        if progress is not None:
            for scanned in (1_000, 20_000, 39_000):
                progress(scanned)
        s = self.s
        if self.mode == 0:  # too broad
            return result_for(s, query, [(2, full_row(s))], omitted=MAX_RESULTS * 3)
        if self.mode == 1:  # nothing open
            return result_for(s, query, [])
        return result_for(s, query, [(1, full_row(s)), (1, bare_row(s))])


def run_command(check: Checker, s: str, text: str, *, channel: str, mode: int) -> None:
    """``/qlocks <text>`` through the real listener (``on_command``) with stub cluster and Slack."""
    ticks = iter(range(0, 10_000, 5))
    deps = Deps(
        service=StubService(s, mode),  # type: ignore[arg-type]
        authz=Authorizer(admins=(), admin_groups=(), channels=(OPS,), members_of=lambda _: ()),
        guard=None,  # type: ignore[arg-type]
        audit=None,  # type: ignore[arg-type]
        cluster=s,
        clock=lambda: NOW,
        monotonic=lambda: float(next(ticks)),
        progress=ProgressPolicy(after_s=0.0, every_s=0.0, max_updates=3),
        run=Inline(),
    )
    ack, respond = Recorder(), Recorder()
    command = {
        "text": text,
        "user_id": SEARCHER,
        "channel_id": channel,
        "response_url": "https://hooks.example/x",
    }
    on_command(deps, ack=ack, command=command, respond=respond)  # type: ignore[arg-type]
    if len(ack.calls) != 1:
        check.fail("command", f"{len(ack.calls)} acks")
    for call in ack.calls + respond.calls:
        if call is ack.calls[0] and not call:  # a search's empty ack: nothing shown, nothing to check
            continue
        check.text("command reply", call.get("text"))
        if "blocks" in call:
            check.blocks("command answer", call["blocks"])


# -- one fuzzed string through everything ----------------------------------------------------------------------------


BENIGN = LockRow(
    ref=HandleRef(
        location="loc-9", file_number="7340109", owner="8589934593", path="/projects/q3/forecast.xlsx"
    ),
    holder="dana",
    client_ip="10.1.2.3",
    client_host="laptop-42",
    access=("read",),
    share_mode=("read",),
    node="10.0.0.1",
    session_open_s=7200.0,
    session_idle_s=60.0,
)
OFFSETS = (0, 20, 999, -5)  # one page: each clamps to the first


def render_everything(s: str, i: int) -> Checker:
    """``s`` in every field of every message; the variants (offsets, which rows, which outcome) rotate with ``i``."""
    check = Checker()
    query = query_of(s)
    row, bare = full_row(s), bare_row(s)

    # The search answer: one page (at a rotating offset; the owner shows where the holder's name is missing), every
    # twentieth string three pages whose starts fall inside files ("continued"), the empty answers, a closed row.
    compact = result_for(s, query, [(1, row), (1, bare)] if i % 2 else [(1, row)])
    offset = OFFSETS[i % len(OFFSETS)]
    searcher = None if i % 5 == 4 else SEARCHER
    check.message(
        f"search_message(offset={offset})", search_message(compact, searcher=searcher, offset=offset, now=NOW)
    )
    if i % 20 == 0:
        paged = result_for(s, query, [(7, row), (20, BENIGN), (18, bare)], omitted=i)
        for offset in (0, 20, 40, 10_000):
            check.message(
                f"paged(offset={offset})", search_message(paged, searcher=SEARCHER, offset=offset, now=NOW)
            )
    if i % 4 == 0:
        empty = result_for(s, query, [], no_such_file=i % 8 == 0)
        check.message("empty answer", search_message(empty, searcher=searcher, offset=0, now=NOW))
    now_row = (None, row, None, bare)[i % 4]  # no row: the owner instead of the holder
    check.blocks(
        "closed_block", [closed_block("row-0", closer=CLOSER, at=NOW, ref=(now_row or row).ref, row=now_row)]
    )

    # The mrkdwn texts.
    check.text("usage", messages.usage(s))
    check.text("too_broad", messages.too_broad(result_for(s, query, [(3, row)], omitted=10_000), MAX_RESULTS))
    check.text("wrong_cluster", messages.wrong_cluster(s, s))
    check.text("post_failed", messages.post_failed(s))
    # Who holds the close claim is a Slack user ID from the signed click, never cluster or user text.
    check.text("duplicate", messages.duplicate(closer=(None, CLOSER)[i % 2], at=NOW, settled=bool(i % 3)))
    # A refused query, and two of the cluster's errors (every kind in turn), as a failed search and a failed close.
    for k in (0, 1 + i % (len(ERRORS) - 1), 1 + (i * 7 + 3) % (len(ERRORS) - 1)):
        exc = ERRORS[k](s)
        check.text(f"search_error({type(exc).__name__})", messages.search_error(exc, cluster=s))
        if isinstance(exc, QumuloError):
            check.text(f"close_error({type(exc).__name__})", messages.close_error(exc, path=s, cluster=s))
    moved = replace(row, holder=s + "x", ref=HandleRef("loc-1", "1", s + "x", s + "/x"))
    for status in (CloseStatus.FAILED, list(CloseStatus)[i % len(CloseStatus)]):
        outcome = CloseOutcome(status=status, ref=row.ref, message=s, row=(None, row, moved)[i % 3])
        check.text(f"close_refused({status})", messages.close_refused(outcome))
    # user_id and searcher_id are Slack IDs (the signed click, the decoded button); anything ID-shaped is a mention.
    user_id, searcher_id = ((CLOSER, SEARCHER), ("", None), ("not an id", "<@U0VICTIM1>"))[i % 3]
    record = AuditRecord(
        at=NOW,
        result="closed",
        user_id=user_id,
        user_name=s,
        channel_id=OPS,
        file=s,
        location=s,
        holder=s,
        client=s,
        message=s,
        searcher_id=searcher_id,
        cluster=s,
    )
    check.text("closed_line", messages.closed_line(record))

    def lookup_fails(_: str) -> frozenset[str]:
        raise GroupLookupError(s)

    authz = Authorizer(admins=(ADMIN,), admin_groups=("S0ADMINS1",), channels=(OPS,), members_of=lookup_fails)
    check.text("may_close", authz.may_close(USER, OPS).reason)

    # The listener: the query as Slack sends it (entities), as raw markup, and as a sub-command; answered too broad,
    # with nothing, or with the fuzzed rows.
    # (The answer's blocks are search_message's, checked above: some commands render them again.)
    run_command(check, s, "search " + slack_escape(s), channel=OPS, mode={1: 2, 6: 1}.get(i % 10, 0))
    if i % 2:
        run_command(check, s, "search " + s, channel=OPS, mode={3: 2, 13: 1}.get(i % 20, 0))
    if i % 4 == 0:
        run_command(check, s, s, channel=OPS, mode=1)
    if i % 7 == 0:
        run_command(check, s, "search x" + s, channel="C0ELSEWH1", mode=1)
    return check


def _render_chunk(chunk: tuple[int, list[str]]) -> list[tuple[int, list[str]]]:
    """(index, problems) for each string of one chunk; runs in a worker process."""
    first, strings = chunk
    return [(i, render_everything(s, i).problems) for i, s in enumerate(strings, first)]


def _workers() -> int:
    """Worker processes for the bulk (forkserver: a clean process, never a fork of this threaded one), up to four."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def test_fuzzed_strings_render_safely() -> None:
    strings = list(fuzzed_strings(STRINGS))
    size = 250
    chunks = [(k, strings[k : k + size]) for k in range(0, len(strings), size)]
    workers = _workers()
    if workers > 1:
        with multiprocessing.get_context("forkserver").Pool(workers) as pool:
            results = [r for part in pool.map(_render_chunk, chunks) for r in part]
    else:
        results = [r for chunk in chunks for r in _render_chunk(chunk)]
    assert [i for i, _ in results] == list(range(STRINGS))
    failures = []
    for i, problems in results:
        tally.record("fuzzed strings", not problems, word="rendered safely")
        if problems:
            s = strings[i]
            failures.append(f"string {i} {s[:120]!r} ({len(s)} chars): " + " | ".join(problems[:3]))
    assert not failures, f"{len(failures)} of {STRINGS} strings:\n" + "\n".join(failures[:8])


def test_generator_is_deterministic_and_hostile() -> None:
    first = list(fuzzed_strings(500))
    assert first == list(fuzzed_strings(500))
    joined = "".join(first)
    for needle in ("<!channel>", "<http://x|y>", "&amp;lt;", "\u202e", "\u200b", "\ufeff", "\n", "😀"):
        assert needle in joined, needle
    assert max(map(len, first)) >= 4000 and "" in first


def test_the_checks_catch_what_they_look_for() -> None:
    def problems(run: Callable[[Checker], None]) -> list[str]:
        check = Checker()
        run(check)
        return check.problems

    def section(text: str, block_id: str = "b") -> dict[str, Any]:
        return {
            "type": "section",
            "block_id": block_id,
            "text": {"type": "mrkdwn", "text": text, "verbatim": True},
        }

    def button(**kw: Any) -> dict[str, Any]:
        return {
            "type": "button",
            "action_id": "a",
            "text": {"type": "plain_text", "text": "Go"},
            "value": "v",
            **kw,
        }

    assert not problems(
        lambda c: c.text("ok", f"<@{SEARCHER}> in <#{OPS}>: &lt;!channel&gt; &amp; \\u202e\n")
    )
    for leak in (
        "<!channel>",
        "<@U0VICTIM1>",
        "<#C0SECRET1>",
        "a & b",
        "&amp",
        "x\u202ey",
        "\u200b",
        "\x1b",
        "<",
    ):
        as_text, in_block = Checker(), Checker()
        as_text.text("leak", leak)
        in_block.blocks("leak", [section(leak)])
        assert as_text.problems and in_block.problems, leak
    assert problems(lambda c: c.text("long", "x" * 12_001))
    assert problems(lambda c: c.text("empty", ""))
    assert problems(lambda c: c.blocks("many", [section("x", f"b{n}") for n in range(51)]))
    assert problems(lambda c: c.blocks("twice", [section("x"), section("y")]))
    assert problems(lambda c: c.blocks("section", [section("x" * 3001)]))
    header = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    assert problems(lambda c: c.blocks("header", [header]))
    plain = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    assert problems(lambda c: c.blocks("not verbatim", [plain]))
    assert problems(
        lambda c: c.blocks("value", [{"type": "actions", "elements": [button(value="v" * 2001)]}])
    )
    confirm = {
        "title": {"type": "plain_text", "text": "t"},
        "text": {"type": "plain_text", "text": "x" * 301},
        "confirm": {"type": "plain_text", "text": "ok"},
        "deny": {"type": "plain_text", "text": "no"},
    }
    assert problems(lambda c: c.blocks("confirm", [{**section("x"), "accessory": button(confirm=confirm)}]))
    assert problems(
        lambda c: c.blocks("sdk", [{"type": "section", "block_id": "b"}])
    )  # neither text nor fields


# -- through the real app --------------------------------------------------------------------------------------------


def _posted(h: Harness, name: str) -> list[dict[str, Any]]:
    return h.posted(name)


def _check_call_bodies(check: Checker, where: str, bodies: list[dict[str, Any]]) -> None:
    for body in bodies:
        if "text" in body or "blocks" not in body:
            check.text(f"{where} text", body.get("text"))
        if body.get("blocks"):
            check.blocks(where, body["blocks"])


def test_fuzzed_queries_and_cluster_names_through_the_app(harness: Harness) -> None:
    """Hostile paths, user names and client host names on the simulator, hostile queries typed into ``/qlocks``."""
    h = harness
    rng = random.Random(SEED + 1)
    names = [hostile(rng)[:200] for _ in range(12)]
    for k, name in enumerate(names):
        segment = name.replace("/", "\u2215") or "empty"
        ip = h.sim.state.new_client_ip(name or None)
        h.sim.state.add_handle(f"/Finance/zqfz{k:02d} {segment}", user=name or "nobody", client_ip=ip)

    failures: list[str] = []

    def judge(what: str, check: Checker) -> None:
        tally.record("fuzzed strings through the app", not check.problems, word="rendered safely")
        if check.problems:
            failures.append(f"{what[:120]!r}: " + " | ".join(check.problems[:3]))

    # Everything hostile on the cluster, listed (two pages), paged, and one handle closed.
    check = Checker()
    resp, name = h.command("search zqfz")
    if resp.body:  # a search's ack is empty (the answer is the feedback); anything shown is checked
        check.text("ack", json.loads(resp.body).get("text"))
    answers = [p for p in _posted(h, name) if p.get("response_type") == "in_channel"]
    _check_call_bodies(check, "answer", _posted(h, name))
    judge("search zqfz", check)
    assert answers, _posted(h, name)
    message = answers[0]
    assert message["text"].startswith(f"{len(names)} open handles"), message["text"]

    check = Checker()
    if any(b.get("type") == "actions" for b in message["blocks"]):
        _, name = h.click(message, user=USER, action_id=PAGE_NEXT_ACTION)
        _check_call_bodies(check, "page 2", _posted(h, name))
    block_id = next(b["block_id"] for b in message["blocks"] if "accessory" in b)
    _, name = h.click(message, user=ADMIN, block_id=block_id)
    closed = _posted(h, name)
    _check_call_bodies(check, "close", closed)
    for call in h.calls("chat.postMessage") + h.calls("chat.postEphemeral"):
        body = dict(call.body)
        if isinstance(body.get("blocks"), str):
            body["blocks"] = json.loads(body["blocks"])
        _check_call_bodies(check, call.method, [body])
    judge("page and close", check)
    notes = [b for b in closed if b.get("response_type") == "in_channel"] + h.calls("chat.postMessage")
    assert notes, "the close posted no channel note"

    # Hostile queries: refused at the ack, or searched and answered.
    answered = 0
    for k in range(APP_QUERIES):
        typed = hostile(rng)[:600] if k % 4 else "zqfz" + hostile(rng)[:100]
        check = Checker()
        resp, name = h.command("search " + slack_escape(typed) if k % 2 else "search " + typed)
        if resp.status != 200:
            check.fail("ack", f"HTTP {resp.status}", resp.body)
        elif resp.body:
            check.text("ack", json.loads(resp.body).get("text"))
        bodies = _posted(h, name)
        answered += any(body.get("response_type") == "in_channel" for body in bodies)
        _check_call_bodies(check, "answer", bodies)
        judge(typed, check)
    assert answered >= APP_QUERIES // 5, f"only {answered} of {APP_QUERIES} queries reached the cluster"
    assert not failures, f"{len(failures)} through the app:\n" + "\n".join(failures[:8])


# -- beyond ~5k characters -------------------------------------------------------------------------------------------


def test_a_cluster_naming_thousands_of_missing_privileges() -> None:
    """A 403 whose text names 3,000 privileges (60k characters): the refusal still fits, and names a few."""
    description = " ".join(f"PRIVILEGE_FUZZ_{n}" for n in range(3000)) + " <!channel>"
    body = json.dumps({"error_class": "<!here>", "description": description}).encode()
    exc = error_from_response(403, body, endpoint="/v1/smb/files/")
    assert isinstance(exc, QumuloPermissionError) and len(exc.missing_privileges) == 3000
    check = Checker()
    check.text("search_error", messages.search_error(exc, cluster="<!channel>"))
    check.text("close_error", messages.close_error(exc, path="/x", cluster="<!channel>"))
    tally.record("oversized cluster errors", not check.problems, word="kept within limits")
    assert not check.problems, check.problems
    assert "PRIVILEGE_FUZZ_0" in messages.search_error(exc, cluster="c")


def test_every_close_button_decodes_to_its_handle() -> None:
    ref = HandleRef(location="3.1", file_number="7", owner="8589934593", path="/Finance/" + "\x01" * 3000)
    value = encode_ref(ref, searcher=SEARCHER, cluster="qumulo-prod")
    assert value is None or decode_ref(value).ref == ref


# -- hypothesis on top -----------------------------------------------------------------------------------------------

hostile_text = st.text(
    alphabet=st.one_of(st.sampled_from(SPECIALS + "".join(INVISIBLES) + "\n"), st.characters()), max_size=400
) | st.sampled_from(FRAGMENTS).flatmap(lambda f: st.text(max_size=20).map(lambda t: f + t + f))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=hostile_text, i=st.integers(min_value=0, max_value=20))
def test_any_text_renders_safely(s: str, i: int) -> None:
    check = render_everything(s, i)
    tally.record("hypothesis strings", not check.problems, word="rendered safely")
    assert not check.problems, check.problems[:5]
