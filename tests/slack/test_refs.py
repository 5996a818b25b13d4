from __future__ import annotations

import base64
import json
import random
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.locks.models import HandleRef
from bot.slack.refs import MAX_VALUE, PageButton, decode_page, decode_ref, encode_page, encode_ref

refs = st.builds(
    HandleRef,
    location=st.text(min_size=1, max_size=300),
    file_number=st.text(max_size=30),
    owner=st.text(max_size=30),
    path=st.text(max_size=3000),
)
searchers = st.one_of(st.none(), st.from_regex(r"U[A-Z0-9]{8}", fullmatch=True))


@given(refs, searchers, st.text(max_size=50))
def test_encode_decode_roundtrip_or_none(ref: HandleRef, searcher: str | None, cluster: str) -> None:
    value = encode_ref(ref, searcher=searcher, cluster=cluster)
    if value is None:  # only when even the compressed form cannot fit
        raw = json.dumps([ref.location, ref.file_number, ref.owner, ref.path, cluster], ensure_ascii=False)
        assert len(raw) > MAX_VALUE - 60
        return
    assert len(value) <= MAX_VALUE
    decoded = decode_ref(value)
    assert decoded.ref == ref
    assert decoded.searcher == searcher
    assert decoded.cluster == cluster


def test_long_deep_path_is_compressed_and_fits() -> None:
    ref = HandleRef("loc", "1", "2", "/projects/" + "/".join(["very long folder name"] * 150) + "/f.xlsx")
    value = encode_ref(ref, searcher="U012AB3CD", cluster="c")
    assert value is not None and value.startswith("z1:") and len(value) <= MAX_VALUE
    assert decode_ref(value).ref == ref


@given(st.one_of(st.text(max_size=2500), st.binary(max_size=200).map(lambda b: "z1:" + b.hex())))
def test_decode_garbage_raises_value_error(value: str) -> None:
    try:
        decoded = decode_ref(value)
    except ValueError:
        return
    # Anything accepted must be a well-formed envelope (a JSON object with exactly the encoder's fields).
    assert decoded.ref.location


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "x" * 2001,
        "[]",
        '{"v":1}',
        '{"v":2,"c":"c","s":null,"l":"x","f":"1","o":"2","p":"/a"}',
        '{"v":1,"c":"c","s":null,"l":"","f":"1","o":"2","p":"/a"}',
        '{"v":1,"c":"c","s":"<!channel>","l":"x","f":"1","o":"2","p":"/a"}',
        '{"v":1,"c":"c","s":null,"l":7,"f":"1","o":"2","p":"/a"}',
        '{"v":1,"c":"c","s":null,"l":"x","f":"1","o":"2","p":"/a","extra":1}',
        "[" * 1999,
        "z1:!!!",
        "z1:" + base64.urlsafe_b64encode(zlib.compress(b"{" * 100)).decode(),
        "z1:" + base64.urlsafe_b64encode(zlib.compress(b"A" * 1_000_000)).decode(),  # a decompression bomb
    ],
)
def test_decode_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        decode_ref(value)


queries = st.one_of(
    st.text(min_size=1, max_size=4096),
    st.text(alphabet='\\"/ab', min_size=1, max_size=4096),  # what JSON doubles
    st.builds(lambda n, c: c * n, st.integers(1, 4096), st.sampled_from(["\\", '"', "a", "é", "😀"])),
)


@given(queries, st.integers(min_value=0, max_value=100_000), searchers)
def test_page_value_carries_the_whole_query_or_nothing(query: str, offset: int, searcher: str | None) -> None:
    """Regression: long queries were cut to fit (Next ran another search; all-backslash ones cut to "")."""
    value = encode_page(query, offset, searcher=searcher)
    if value is None:  # only when even the compressed form cannot fit
        raw = json.dumps({"q": query}, ensure_ascii=False)
        assert len(raw) > MAX_VALUE and len(zlib.compress(raw.encode("utf-8"), 9)) * 4 // 3 > MAX_VALUE - 60
        return
    assert len(value) <= MAX_VALUE
    page = decode_page(value)
    assert page == PageButton(query=query, offset=offset, searcher=searcher)


@pytest.mark.parametrize(
    "query",
    ["\\" * 4096, '"' * 4096, '\\"' * 1365, "x" + "/very long folder name" * 180, "é" * 4096, "😀" * 4096],
)
def test_long_and_doubled_queries_round_trip_compressed(query: str) -> None:
    value = encode_page(query, 40, searcher="U012AB3CD")
    assert value is not None and value.startswith("z1:") and len(value) <= MAX_VALUE
    assert decode_page(value).query == query


def test_an_incompressible_long_query_gets_no_value() -> None:
    rng = random.Random(7)
    query = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(2500))
    assert encode_page(query, 20, searcher=None) is None


@pytest.mark.parametrize(
    "value",
    [
        '{"q":"a","offset":20,"s":null}',  # version 1: its query may have been cut
        '{"v":2,"q":"a","o":-1,"s":null}',
        '{"v":2,"q":"a","o":true,"s":null}',
        '{"v":2,"q":"","o":0,"s":null}',
        '{"v":2,"q":"a","o":0,"s":"<!channel>"}',
        '{"v":3,"q":"a","o":0,"s":null}',
        '{"v":2,"q":"a","o":0,"s":null,"x":1}',
        "{",
        "7",
        "z1:!!!",
        "z1:" + base64.urlsafe_b64encode(zlib.compress(b'{"v":2,"q":"' + b"a" * 40_000 + b'"}')).decode(),
    ],
)
def test_decode_page_rejects(value: str) -> None:
    with pytest.raises(ValueError):
        decode_page(value)
