"""The playground in headless Chromium: the story a user plays, and the Block Kit renderer's safety.

Chromium is Debian's package, launched by Playwright through ``executable_path`` (no ``playwright install``).
A missing Chromium fails these tests with instructions; ``QLOCKS_SKIP_BROWSER=1`` skips them explicitly.
Screenshots go to ``tests/artifacts/``; ``QLOCKS_UPDATE_SCREENSHOT=1`` (or a missing file) refreshes
``docs/playground.png`` from the story.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qlocks_tools.fakeslack import ALEX, DANA
from qlocks_tools.playground.server import PlaygroundServer
from slack_sdk import WebClient

from tests.tools.playground.conftest import TOKEN, UPDATE_SCREENSHOT, FakeBot, screenshot

pytestmark = pytest.mark.browser

FILE = "/finance/2026/Q3/Q3 forecast.xlsx"  # a seeded anchor: dana (write), priya and marco (read)
ROOT = Path(__file__).resolve().parents[3]
DOCS_SCREENSHOT = ROOT / "docs" / "playground.png"  # the README's picture


def _rows_on(stack: Any, path: str) -> list[dict[str, Any]]:
    _, rows = stack.server.cluster.handles(path, limit=100)
    return [row for row in rows if row["path"] == path]


def _audit(stack: Any) -> list[dict[str, Any]]:
    if not stack.audit_path.exists():
        return []
    return [json.loads(line) for line in stack.audit_path.read_text().splitlines()]


def _search(page: Any, text: str) -> None:
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")


def test_story_search_refused_then_admin_closes(stack: Any, page: Any) -> None:
    marco = next(row for row in _rows_on(stack, FILE) if row["user"] == "marco")
    handles_before = len(_rows_on(stack, FILE))
    page.goto(stack.url)
    assert page.locator("#whoami button[aria-pressed=true]").inner_text().startswith(DANA.real_name)

    # 1. dana searches: the list is in the channel, one Close button per handle on the file.
    _search(page, f"/qlocks search {FILE}")
    close_buttons = page.locator(".msg:not(.ephemeral) button.bk-button", has_text="Close handle")
    close_buttons.first.wait_for()
    assert close_buttons.count() == handles_before
    marco_row = page.locator(".bk-section", has_text="marco").filter(has=page.locator("button.bk-danger"))
    assert marco_row.count() == 1
    # the panel was filtered to the searched path and shows marco's handle
    panel_row = page.locator(f'#handles tr[data-location="{marco["location"]}"]')
    panel_row.wait_for()
    screenshot(page, "story-1-search")

    # 2. dana tries to close: confirm dialog, then refused with an explanation only she sees.
    marco_row.locator("button.bk-danger").click()
    dialog = page.locator("dialog#confirm[open]")
    dialog.wait_for()
    dialog.locator("#confirm-yes").click()
    refusal = page.locator(".msg.ephemeral", has_text="Not authorized")
    refusal.wait_for()
    assert "Only visible to you" in refusal.inner_text()
    assert stack.sim.state.handle_by_location(marco["location"]) is not None
    assert [r["result"] for r in _audit(stack)] == ["denied"]
    screenshot(page, "story-2-refused")

    # 3. switch to the admin: dana's ephemeral refusal is not alex's to see.
    page.locator("#whoami button", has_text=ALEX.real_name).click()
    page.locator("#whoami button[aria-pressed=true]", has_text=ALEX.real_name).wait_for()
    refusal.wait_for(state="detached")

    # 4. alex clicks Close, cancels once (nothing is sent), then confirms.
    marco_row.locator("button.bk-danger").click()
    dialog.wait_for()
    assert "Close" in dialog.locator("#confirm-title").inner_text()
    dialog.locator("#confirm-no").click()
    dialog.wait_for(state="hidden")
    assert len(_audit(stack)) == 1 and stack.sim.state.handle_by_location(marco["location"]) is not None
    marco_row.locator("button.bk-danger").click()
    dialog.wait_for()
    screenshot(page, "story-3-confirm")
    dialog.locator("#confirm-yes").click()

    # 5. the row is replaced in place, the audit line is in the channel, the handle is gone from the cluster.
    closed = page.locator(".msg:not(.ephemeral) .bk-section", has_text="Closed by @alex")
    closed.wait_for()
    assert "marco" in closed.inner_text()
    assert close_buttons.count() == handles_before - 1
    audit_line = page.locator(".msg:not(.ephemeral)", has_text="@alex closed the SMB handle")
    audit_line.wait_for()
    assert FILE in audit_line.inner_text()
    panel_row.wait_for(state="detached")
    assert stack.sim.state.handle_by_location(marco["location"]) is None
    assert [r["result"] for r in _audit(stack)] == ["denied", "closed"]
    shot = screenshot(page, "story-4-closed")
    assert "](docs/playground.png)" in (ROOT / "README.md").read_text()  # the file refreshed is the one shown
    if UPDATE_SCREENSHOT or not DOCS_SCREENSHOT.exists():
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_SCREENSHOT)

    # 6. back as dana: the shared list and the audit line are public, alex's view changed nothing else.
    page.locator("#whoami button", has_text=DANA.real_name).click()
    page.locator("#whoami button[aria-pressed=true]", has_text=DANA.real_name).wait_for()
    closed.wait_for()
    audit_line.wait_for()


def test_stale_row_when_the_client_closed_it_first(stack: Any, page: Any) -> None:
    priya = next(row for row in _rows_on(stack, FILE) if row["user"] == "priya")
    page.goto(stack.url)
    page.locator("#whoami button", has_text=ALEX.real_name).click()
    _search(page, f"/qlocks search {FILE}")
    priya_row = page.locator(".bk-section", has_text="priya").filter(has=page.locator("button.bk-danger"))
    priya_row.wait_for()
    # the client closes the file itself (panel button): the listed row is now stale
    panel_row = page.locator(f'#handles tr[data-location="{priya["location"]}"]')
    panel_row.locator("button.client-close").click()
    panel_row.wait_for(state="detached")
    priya_row.locator("button.bk-danger").click()
    page.locator("#confirm-yes").click()
    page.locator(".msg.ephemeral", has_text=re.compile("already gone|no longer", re.I)).wait_for()
    # the row loses its button and says so, the counts drop; the ephemeral reply explains
    page.locator(".bk-section", has_text="Already gone").wait_for()
    assert priya_row.count() == 0
    assert page.locator(".bk-header", has_text="2 open handles on 1 file").count() == 1
    assert [r["result"] for r in _audit(stack)] == ["gone"]
    # another client opens the file: the panel shows it at once
    page.fill("#open-path", FILE)
    page.click("#open-button")
    page.locator("#handles tr", has_text="erin").wait_for()
    screenshot(page, "stale-handle")


def test_narrow_window_scrolls_the_channel_to_each_new_result(stack: Any, page: Any) -> None:
    """At 800 px the panel goes below the channel; the channel still scrolls itself to every new answer.

    Each search also filters the panel (3 rows for the file, dozens for a user): the channel's height must not
    follow the panel's, or a shrinking channel leaves the view "not at the bottom" and the next answer unseen.
    """
    page.set_viewport_size({"width": 800, "height": 900})
    page.goto(stack.url)
    page.locator("#handles tr").first.wait_for()
    heights = []
    for n, query in enumerate([FILE, "user:dana", "budget", FILE], start=1):
        _search(page, f"/qlocks search {query}")
        page.wait_for_function("n => document.querySelectorAll('.msg .bk-header').length >= n", arg=n)
        # the newest answer's last line is in view inside the channel (polled: the page scrolls as it renders)
        page.wait_for_function("""() => {
          const list = document.getElementById("messages");
          const last = [...list.querySelectorAll(".msg")].pop().getBoundingClientRect();
          const box = list.getBoundingClientRect();
          return last.bottom <= box.bottom + 1 && last.bottom > box.top;
        }""")
        heights.append(page.evaluate("document.getElementById('messages').clientHeight"))
    sizes = page.evaluate("""() => { const l = document.getElementById("messages");
      return {scroll: l.scrollHeight, client: l.clientHeight, doc: document.documentElement.scrollHeight,
              win: innerHeight}; }""")
    assert sizes["scroll"] > 3 * sizes["client"]  # there was something to scroll: the test is not vacuous
    assert sizes["doc"] <= sizes["win"]  # the channel scrolls, not the page: the message box stays on screen
    # the channel keeps its size whatever the panel shows
    assert len(set(heights)) == 1 and heights[0] > 300, heights
    assert page.locator("#composer-input").is_visible() and page.locator("#cluster").is_visible()
    screenshot(page, "narrow-800")


def test_a_click_on_an_outdated_button_is_answered_by_the_bot(stack: Any, page: Any) -> None:
    """The row changed while the confirm dialog was open: the click still goes to the bot, which says why."""
    page.goto(stack.url)
    page.locator("#whoami button", has_text=ALEX.real_name).click()
    page.locator("#whoami button[aria-pressed=true]", has_text=ALEX.real_name).wait_for()
    _search(page, f"/qlocks search {FILE}")
    button = page.locator(".bk-section", has_text="marco").locator("button.bk-danger")
    button.click()
    dialog = page.locator("dialog#confirm[open]")
    dialog.wait_for()
    # meanwhile alex closes the same handle from another Slack client (his phone): the message changes
    ts = page.locator(".msg", has=button).get_attribute("data-ts")
    phone = {
        "as": ALEX.id,
        "ts": ts,
        "block_id": button.get_attribute("data-block-id"),
        "action_id": "close_handle",
    }
    assert requests.post(stack.url + "/pg/action", json=phone, timeout=10).json()["ok"]
    page.locator(".bk-section", has_text="Closed by @alex").wait_for()
    assert button.count() == 0 and dialog.is_visible()
    dialog.locator("#confirm-yes").click()  # the click on the button as it was shown
    page.locator(".msg.ephemeral", has_text="already closed by @alex").wait_for()
    assert page.locator("#status").inner_text() == ""  # the page refused nothing itself
    assert [r["result"] for r in _audit(stack)] == ["closed", "duplicate"]


def test_two_opens_from_another_client_are_rows_the_bot_tells_apart(stack: Any, page: Any) -> None:
    page.goto(stack.url)
    before = len(_rows_on(stack, FILE))
    page.fill("#filter", FILE)  # the panel lists the first 200 handles: show this file's
    page.locator("#handle-count", has_text=f"{before} matching").wait_for()
    for user in ("erin", "ravi"):
        page.fill("#open-path", FILE)
        page.click("#open-button")
        page.locator("#handles tr", has_text=user).wait_for()
    assert "ravi" in page.locator("#open-status").inner_text()
    _search(page, f"/qlocks search {FILE}")
    rows = page.locator(".msg:not(.ephemeral) .bk-section").filter(has=page.locator("button.bk-danger"))
    rows.nth(before + 1).wait_for()
    assert rows.count() == before + 2
    erin, ravi = (rows.filter(has_text=f"{name} on ").inner_text() for name in ("erin", "ravi"))
    assert "ERIN-MBP" in erin and "RAVI-SURFACE" in ravi
    ips = [re.search(r"on (\S+)", text).group(1) for text in (erin, ravi)]  # type: ignore[union-attr]
    assert ips[0] != ips[1]
    for text in (erin, ravi):  # opened seconds ago, and it says so
        assert re.search(r"open \d{1,2}s · idle \d{1,2}s", text), text
    screenshot(page, "two-clients")


def _emoji_fonts() -> list[str]:
    try:
        listing = subprocess.run(
            ["fc-list", ":", "family"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line for line in listing.splitlines() if "emoji" in line.lower()]


def test_emoji_render_in_colour(playground: PlaygroundServer, page: Any) -> None:
    """The bot's emoji (🔓 ✏️ ⚠️ ✅) are colour glyphs on the page and in docs/playground.png, not boxes."""
    if not _emoji_fonts():
        pytest.fail("no emoji font: install Debian's fonts-noto-color-emoji (`make system-deps` does)")
    page.goto(playground.url)
    coloured = page.evaluate("""() => {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 64;
      const g = canvas.getContext("2d");
      g.font = "48px " + getComputedStyle(document.body).fontFamily;
      g.textBaseline = "top";
      g.fillStyle = "#000";
      g.fillText("🔓", 4, 4);  // 🔓, drawn in black: only a colour glyph has coloured pixels
      const px = g.getImageData(0, 0, 64, 64).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) {
        const [r, gr, b, a] = [px[i], px[i + 1], px[i + 2], px[i + 3]];
        if (a > 128 && Math.max(r, gr, b) - Math.min(r, gr, b) > 60) n++;
      }
      return n;
    }""")
    assert coloured > 50, "🔓 is drawn without colour: the page's emoji would be boxes"


# -- the renderer with hand-made Block Kit (no bot: the fake bot records clicks) ----------------------------------
HOSTILE = "<img src=x onerror=alert(1)> & <script>alert(2)</script>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


RENDER_BLOCKS: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "Header <b>not bold</b> &amp; literal"}},
    {"type": "section", "block_id": "s1",
     "text": {"type": "mrkdwn", "text": f"*bold* _italic_ `{_escape(HOSTILE)}` by <@U0ALEX> ~gone~ my_file_name.txt"},
     "fields": [{"type": "mrkdwn", "text": "*Path*\n" + _escape(HOSTILE)}, {"type": "plain_text", "text": HOSTILE}]},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "ctx <!here> <https://example.com/x|a link> <javascript:alert(3)|bad>"}]},
    {"type": "divider"},
    {"type": "section", "block_id": "row-1", "text": {"type": "mrkdwn", "text": "row one"},
     "accessory": {"type": "button", "action_id": "close_handle", "style": "danger", "value": "v1",
                   "text": {"type": "plain_text", "text": "Close handle"},
                   "confirm": {"title": {"type": "plain_text", "text": "Sure <b>?</b>"},
                               "text": {"type": "plain_text", "text": HOSTILE},
                               "confirm": {"type": "plain_text", "text": "Do it"},
                               "deny": {"type": "plain_text", "text": "Nope"}, "style": "danger"}}},
    {"type": "actions", "block_id": "pager", "elements": [
        {"type": "button", "action_id": "page_next", "style": "primary", "value": "2",
         "text": {"type": "plain_text", "text": "Next"}}]},
]  # fmt: skip


def test_renderer_is_safe_and_buttons_send_signed_clicks(
    playground: PlaygroundServer, fake_bot: FakeBot, page: Any
) -> None:
    client = WebClient(token=TOKEN, base_url=playground.url + "/api/")
    client.chat_postMessage(channel=playground.channel.id, text="fallback", blocks=RENDER_BLOCKS)
    client.chat_postEphemeral(channel=playground.channel.id, user=ALEX.id, text="secret for *alex*")
    page.add_init_script(
        "window.alert = (m) => { window.__alerts = (window.__alerts || []).concat([String(m)]); };"
    )
    page.goto(playground.url)
    message = page.locator(".msg", has_text="Header")
    message.wait_for()
    # nothing from the strings became markup, and every string is shown literally
    assert message.locator("img, script, iframe, b:has-text('not bold')").count() == 0
    assert page.locator(".bk-header").inner_text() == "Header <b>not bold</b> & literal"  # entities decoded
    assert message.locator("code").inner_text() == HOSTILE
    assert message.locator(".bk-field").nth(0).inner_text() == "Path\n" + HOSTILE
    assert message.locator(".bk-field").nth(1).inner_text() == HOSTILE
    # mrkdwn: bold/italic/strike, mentions, links; no italics inside snake_case names
    section = message.locator('[data-block-id="s1"] .bk-section-text')
    assert section.locator("b").inner_text() == "bold" and section.locator("i").inner_text() == "italic"
    assert section.locator("s").inner_text() == "gone" and "my_file_name.txt" in section.inner_text()
    assert section.locator(".mention").inner_text() == "@alex"
    context = message.locator(".bk-context")
    assert "@here" in context.inner_text()
    assert (
        context.locator("a").count() == 1
        and context.locator("a").get_attribute("href") == "https://example.com/x"
    )
    assert "<javascript:alert(3)|bad>" in context.inner_text()
    assert page.locator(".msg.ephemeral").count() == 0  # alex's ephemeral is not dana's
    screenshot(page, "renderer")

    # confirm dialog: its texts are literal; Cancel sends nothing, confirming sends the signed click
    message.locator("button.bk-danger").click()
    dialog = page.locator("dialog#confirm[open]")
    assert dialog.locator("#confirm-title").inner_text() == "Sure <b>?</b>"
    assert dialog.locator("#confirm-text").inner_text() == HOSTILE
    dialog.locator("#confirm-no", has_text="Nope").click()
    dialog.wait_for(state="hidden")
    message.locator("button.bk-danger").click()
    dialog.locator("#confirm-yes", has_text="Do it").click()
    got = fake_bot.next()
    assert got.valid_signature and got.payload["actions"][0]["value"] == "v1"
    assert got.payload["user"]["id"] == DANA.id
    assert fake_bot.received.empty()  # the cancelled click never left the page
    message.locator("button.bk-primary", has_text="Next").click()  # no confirm: sent at once
    assert fake_bot.next().payload["actions"][0]["action_id"] == "page_next"

    page.locator("#whoami button", has_text=ALEX.real_name).click()
    page.locator(".msg.ephemeral", has_text="secret for alex").wait_for()
    assert page.evaluate("window.__alerts || []") == []


# -- renderer properties over generated strings (Hypothesis, in the same page) ----------------------------------------
_INSPECT = """([kind, text]) => {
  const node = kind === "plain" ? QBlockKit.renderText({type: "plain_text", text}) : QBlockKit.renderMrkdwn(text, {users: {}});
  const all = [node, ...node.querySelectorAll("*")];
  return {
    text: node.textContent,
    tags: [...new Set(all.map((e) => e.tagName.toLowerCase()))],
    attrs: [...new Set(all.flatMap((e) => [...e.attributes].map((a) => a.name)))],
    hrefs: [...node.querySelectorAll("a")].map((a) => a.getAttribute("href")),
  };
}"""
SAFE_TAGS = {"span", "b", "i", "s", "code", "pre", "a"}
SAFE_ATTRS = {"class", "href", "target", "rel"}
_PIECES = [*"<>&@!#|*_~`/:. \n\"'=ab", "&amp;", "&lt;", "&gt;", "<@U0DANA>", "javascript:", "https://x.y", "<script>",
           "\ue000", "é", "🎉"]  # fmt: skip
nasty = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@pytest.fixture
def renderer_page(playground: PlaygroundServer, page: Any) -> Any:
    page.goto(playground.url)
    page.wait_for_function("window.QBlockKit !== undefined")
    return page


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=80), nasty))
def test_renderer_never_creates_markup_and_plain_text_is_literal(renderer_page: Any, text: str) -> None:
    plain = renderer_page.evaluate(_INSPECT, ["plain", _escape(text)])  # qlocks escapes plain_text too
    assert plain["text"] == text and plain["tags"] == ["span"]
    mrkdwn = renderer_page.evaluate(_INSPECT, ["mrkdwn", text])  # even unescaped input
    assert set(mrkdwn["tags"]) <= SAFE_TAGS and set(mrkdwn["attrs"]) <= SAFE_ATTRS
    assert all(h.startswith(("http://", "https://", "mailto:")) for h in mrkdwn["hrefs"])
    escaped = _escape(text)
    if "`" not in text and "\n" not in text and text.strip():
        code = renderer_page.evaluate(
            _INSPECT, ["mrkdwn", f"`{escaped}`"]
        )  # escaped text comes back verbatim
        assert code["text"] == text
    if not any(c in text for c in "*_~`"):
        assert renderer_page.evaluate(_INSPECT, ["mrkdwn", escaped])["text"] == text
