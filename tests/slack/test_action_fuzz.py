"""No generated click closes a handle without an allowed decision (signed, well-formed requests; hostile content)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.blocks import CLOSE_ACTION
from tests.slack.conftest import ADMIN, ELSEWHERE, OPS, USER, Harness

ids = st.from_regex(r"[UW][A-Z0-9]{8}", fullmatch=True).filter(lambda u: u != ADMIN)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_click_closes_without_permission(harness: Harness, data: st.DataObject) -> None:
    h = harness
    if not getattr(h, "_message", None):
        location = h.sim.state.add_handle("/Finance/fuzz-target.xlsx", user="dana")
        h._message = h.search("fuzz-target")  # type: ignore[attr-defined]
        h._location = location  # type: ignore[attr-defined]
    message: dict[str, Any] = h._message  # type: ignore[attr-defined]
    real = next(b["accessory"]["value"] for b in message["blocks"] if "accessory" in b)
    value = data.draw(
        st.one_of(
            st.just(real),
            st.text(max_size=300),
            st.builds(
                lambda d: json.dumps({**json.loads(real), **d}),
                st.dictionaries(st.sampled_from("vcslfop"), st.text(max_size=20) | st.none() | st.integers()),
            ),
        )
    )
    user, channel = data.draw(
        st.one_of(
            st.tuples(ids | st.just(USER), st.just(OPS)),  # not an admin
            st.tuples(st.just(ADMIN), st.just(ELSEWHERE)),  # an admin outside the allowed channel
        )
    )
    h.click(message, user=user, channel=channel, value=value, action_id=CLOSE_ACTION)
    assert h._location in h.open_locations()  # type: ignore[attr-defined]
    assert h.calls("chat.postMessage") == []
    assert all(r["result"] in ("denied", "invalid") for r in h.audit.read())
