"""≥ 1,000 churn trials between a search and the click on its Close button: 0 wrong-handle closes.

Between rendering a row and the admin's click, the handle may be closed, the file reopened by someone else, the
location reused (by another client, another user, for another file: the simulator's ``reuse_location`` knob; the
docs do not promise locations are never reused), or the file renamed. Only the unchanged handle may be closed;
in every other case nothing is closed and the handle now at that location (if any) stays open.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.attack import tally
from tests.slack.conftest import ADMIN, Harness

KINDS = (
    "unchanged",
    "closed",
    "reopened by another user",
    "reused by another client",
    "reused by another user",
    "reused for another file",
    "renamed",
)
ROWS = 20  # one page of results: every row has its button in the message
BATCHES = 50


@pytest.fixture
def h(make_harness: object) -> Harness:
    return make_harness()  # type: ignore[operator,no-any-return]


def test_churn_between_search_and_click_never_closes_the_wrong_handle(h: Harness) -> None:
    rng = random.Random(11)
    state = h.sim.state
    wrong: list[tuple[str, str]] = []
    missed: list[str] = []
    trials = 0
    for batch in range(BATCHES * tally.SCALE):
        tag = f"churn-b{batch:04d}-"
        opened = {}
        for i in range(ROWS):
            path = f"/Finance/2026/{tag}{i:02d}.xlsx"
            opened[state.add_handle(path, user="dana", client_ip="10.9.8.7")] = path
        message = h.search(tag)
        plan = {loc: KINDS[rng.randrange(len(KINDS))] for loc in opened}
        keep: set[str] = set()  # locations that must still be open after the click
        for loc, kind in plan.items():
            path = opened[loc]
            if kind == "closed":
                state.close_handle(loc)
            elif kind == "reopened by another user":
                state.close_handle(loc)
                keep.add(state.add_handle(path, user="erin", client_ip="10.9.8.8"))
            elif kind == "reused by another client":
                keep.add(state.reuse_location(loc, path, user="dana", client_ip="10.9.8.99"))
            elif kind == "reused by another user":
                keep.add(state.reuse_location(loc, path, user="erin", client_ip="10.9.8.7"))
            elif kind == "reused for another file":
                keep.add(state.reuse_location(loc, path + ".other", user="dana", client_ip="10.9.8.7"))
            elif kind == "renamed":
                state.rename_file(path, path.replace(".xlsx", " (renamed).xlsx"))
                keep.add(loc)

        def press(loc: str, message: dict[str, object] = message) -> None:
            h.click(message, user=ADMIN, block_id=h.row_of(message, loc))

        with ThreadPoolExecutor(4) as pool:  # clicks on different rows are independent, as in Slack
            list(pool.map(press, plan))
        for loc, kind in plan.items():
            trials += 1
            still_open = loc in h.open_locations()
            if kind == "unchanged":
                ok = not still_open
                if still_open:
                    missed.append(loc)
            else:
                ok = loc not in keep or still_open
                if not ok:
                    wrong.append((loc, kind))
            tally.record("churn trials", ok, word="no wrong-handle close")
        assert keep <= h.open_locations(), "a handle that appeared after the search was closed"
        for loc in keep:  # keep the cluster small: each batch scans what is open
            state.close_handle(loc)
    assert trials >= 1000 or tally.SCALE < 1
    assert wrong == [] and missed == []
    results = [r["result"] for r in h.audit.read()]
    assert len(results) == trials and set(results) <= {"closed", "gone", "changed"}
