"""A click whose close reply proves nothing (issue #12 item 6), through signed requests: the admin hears what a
fresh listing shows, closed or still open, never "may or may not be closed"."""

from __future__ import annotations

import pytest

from tests.slack.conftest import ADMIN, Harness

PATH = "/Finance/2026/reply-shape.xlsx"


@pytest.mark.parametrize("shape", ["empty", "other-location", "garbage"])
@pytest.mark.parametrize("noop", [False, True], ids=["closes", "silently-does-not-close"])
def test_an_unclear_close_reply_is_settled_by_the_cluster(harness: Harness, shape: str, noop: bool) -> None:
    h = harness
    location = str(h.sim.state.add_handle(PATH, user="dana", client_ip="10.9.8.7", write=True))
    message = h.search("reply-shape.xlsx")
    h.sim.state.close_reply, h.sim.state.close_noop = shape, noop
    _, name = h.click(message, user=ADMIN, block_id=h.row_of(message, location))
    (record,) = h.audit.read()
    posted = h.posted(name)
    assert all("may or may not" not in p["text"] for p in posted)
    if noop:
        assert location in h.open_locations()
        assert record["result"] == "still_open"
        (reply,) = posted  # the row keeps its button: the handle is open
        assert reply["response_type"] == "ephemeral" and "still open" in reply["text"]
        assert h.calls("chat.postMessage") == []
    else:
        assert location not in h.open_locations()
        assert record["result"] == "closed"
        assert any(p.get("replace_original") is True and "Closed by" in str(p["blocks"]) for p in posted)
