"""The playground's server: what the page can do (type, click, switch user, poke the cluster) and its HTTP server.

Routes (one ThreadingHTTPServer on loopback; request handling in ``qlocks_tools.playground.routes``):
- ``GET /``, ``GET /static/<name>``: the page (plain HTML/CSS/JS shipped in the package).
- ``GET /pg/state?as=U&since=N&filter=...``: channel as ``U`` sees it + cluster panel; long-polls until version > N.
- ``POST /pg/command {as, text}``: a typed line; ``/qlocks ...`` becomes a signed slash command to the bot.
- ``POST /pg/action {as, ts, block_id, action_id, value}``: a button click becomes a signed ``block_actions`` request.
  As in Slack, a button the page showed that user is sent to the bot as it was shown, even if the message changed
  since (the bot answers "already closed", "already gone"...); a button the user was never shown is refused.
- ``POST /pg/open-handle {path}``: another client opens ``path`` on the simulated cluster.
- ``POST /pg/client-close {location}``: a client closes its own handle (to make a listed row stale).
- ``POST /api/<method>``, ``POST /respond/<key>``: the fake Slack (``qlocks_tools.fakeslack``) mounted here.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any, Protocol

from qlocks_tools.fakeslack import (
    SLACKBOT,
    BotLink,
    Channel,
    FakeSlack,
    User,
    block_actions_body,
    click,
    find_element,
    slack_escape,
    slash_command,
)
from qlocks_tools.playground.routes import PageError, make_handler

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]

COMMAND = "/qlocks"
MAX_SHOWN = 50_000  # buttons remembered as shown (oldest forgotten first)

# (user id, message ts, block id, action id, value) of a button the page was sent
ShownKey = tuple[str, str, str, str, str]


class ClusterView(Protocol):
    """What the side panel needs from the simulated cluster."""

    def handles(self, filter_text: str, *, limit: int) -> tuple[int, list[JsonDict]]: ...  # (total, rows)
    def open_handle(self, path: str) -> JsonDict: ...  # the new handle as a panel row
    def client_close(self, location: str) -> bool: ...  # False when no such handle


class PlaygroundServer:
    """Owns the HTTP server; the bot's events URL is set once the bot listens (``bot.events_url``)."""

    def __init__(
        self,
        *,
        channel: Channel,
        slack: FakeSlack,
        bot: BotLink,
        cluster: ClusterView | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.channel = channel
        self.slack = slack
        self.bot = bot
        self.cluster = cluster
        self._clock = clock
        self._httpd = ThreadingHTTPServer((host, port), make_handler(self))
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self.slack.base_url = self.url
        self.allowed_hosts = {f"{host}:{self.port}", f"localhost:{self.port}", f"127.0.0.1:{self.port}"}
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="playground-http",
            daemon=True,
        )
        self._stopped = False
        self._shown: OrderedDict[ShownKey, JsonDict] = OrderedDict()  # the buttons each user's page was shown
        self._shown_lock = threading.Lock()

    def start(self) -> PlaygroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.channel.wake_all()  # release long-polls
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self.bot.close()

    # -- page actions ----------------------------------------------------------------------------------------
    def user(self, user_id: object, *, default: bool = False) -> User:
        if default and not user_id:
            return next(u for u in self.channel.users.values() if not u.is_bot)
        user = self.channel.users.get(str(user_id))
        if user is None or user.is_bot:
            raise PageError(400, "unknown user")
        return user

    def state(self, user: User, *, filter_text: str = "") -> JsonDict:
        # The version first: the page long-polls for "newer than this", so it must never name a change the
        # snapshot below might have missed (a post between the two reads would not be shown until the next one).
        version = self.channel.version
        messages = [m.to_json() for m in self.channel.visible_to(user.id)]
        self._remember_buttons(user, messages)
        users = {u.id: {"name": u.name, "real_name": u.real_name, "is_bot": u.is_bot, "is_admin": u.is_admin}
                 for u in self.channel.users.values()}  # fmt: skip
        cluster: JsonDict | None = None
        if self.cluster is not None:
            total, rows = self.cluster.handles(filter_text, limit=200)
            cluster = {"total": total, "handles": rows, "filter": filter_text}
        return {
            "version": version,
            "me": user.id,
            "channel": {"id": self.channel.id, "name": self.channel.name},
            "users": users,
            "messages": messages,
            "cluster": cluster,
        }

    def command(self, user: User, text: str) -> JsonDict:
        """A line typed into the message box."""
        text = text.strip()
        if not text:
            raise PageError(400, "empty message")
        if not text.startswith("/"):
            self.channel.post(user=user.id, text=slack_escape(text), kind="user")
            return {"ok": True}
        name, _, args = text.partition(" ")
        if name != COMMAND:
            self._note(user, f"{name} is not a valid command. In the playground only {COMMAND} is installed.")
            return {"ok": False, "error": "invalid_command"}
        self.channel.post(user=user.id, text=slack_escape(text), kind="user")
        response_url = self.slack.response_url(user=user.id)
        ack_ts = self.channel.reserve_ts()  # the ack belongs before anything the bot posts meanwhile
        body = slash_command(args.strip(), command=COMMAND, response_url=response_url, user_id=user.id,
                             user_name=user.name, channel_id=self.channel.id, channel_name=self.channel.name)  # fmt: skip
        reply = self.bot.post(body)
        logger.info("%s %s -> %s in %.0f ms", user.name, COMMAND, reply.status, reply.elapsed_ms)
        if not reply.ok:
            self._note(user, f'{COMMAND} failed with the error "{reply.error}"')
        else:
            ack = reply.json()
            if ack is not None:
                self.slack.apply_ack(response_url, ack, ts=ack_ts)
        return {
            "ok": reply.ok,
            "status": reply.status,
            "error": reply.error,
            "ms": round(reply.elapsed_ms, 1),
        }

    def action(
        self, user: User, *, ts: str, block_id: str, action_id: str, value: str | None = None
    ) -> JsonDict:
        """A click on a button the user was shown (after any confirm dialog in the page).

        ``value`` names the button as the page showed it. Like Slack, the click goes to the bot even when the
        message has changed since (the row was closed, the page was turned): the action is the button as shown,
        the message is the message as it is now, and the bot decides what the click means. Without ``value``,
        the button must be in the message now.
        """
        message = self.channel.get(ts)
        if message is None or message.visible_to not in (None, user.id):
            raise PageError(404, "no such message")
        if value is None:
            found = find_element(message.blocks, action_id=action_id, block_id=block_id)
            element = found[1] if found is not None else None
        else:
            with self._shown_lock:
                element = self._shown.get((user.id, ts, block_id, action_id, value))
        if element is None:
            raise PageError(404, "no such button (this message never showed it to you)")
        response_url = self.slack.response_url(user=user.id, source_ts=message.ts)
        as_shown = dataclasses.replace(
            message, blocks=[{"type": "actions", "block_id": block_id, "elements": [element]}]
        )
        payload = click(as_shown, action_id=action_id, block_id=block_id, response_url=response_url, user_id=user.id,
                        user_name=user.name, channel_id=self.channel.id, channel_name=self.channel.name,
                        now=self._clock())  # fmt: skip
        if "message" in payload:
            payload["message"]["blocks"] = copy.deepcopy(message.blocks)  # the message as it is now
        reply = self.bot.post(block_actions_body(payload))
        logger.info("%s clicked %s/%s -> %s in %.0f ms", user.name, block_id, action_id, reply.status,
                    reply.elapsed_ms)  # fmt: skip
        if not reply.ok:
            self._note(user, f'qlocks did not handle the click: "{reply.error}"')
        return {
            "ok": reply.ok,
            "status": reply.status,
            "error": reply.error,
            "ms": round(reply.elapsed_ms, 1),
        }

    def open_handle(self, path: str) -> JsonDict:
        if self.cluster is None:
            raise PageError(404, "no cluster")
        path = path.strip()
        if not path.startswith("/") or len(path) > 4096 or "\x00" in path:
            raise PageError(400, "give an absolute path, e.g. /finance/budget.xlsx")
        row = self.cluster.open_handle(path)
        self.channel.touch()
        return {"ok": True, "handle": row}

    def client_close(self, location: str) -> JsonDict:
        if self.cluster is None:
            raise PageError(404, "no cluster")
        if not self.cluster.client_close(location.strip()):
            raise PageError(404, "no such handle")
        self.channel.touch()
        return {"ok": True}

    def _remember_buttons(self, user: User, messages: list[JsonDict]) -> None:
        """Record every button in ``messages`` as shown to ``user``: a later click on it reaches the bot."""
        with self._shown_lock:
            for message in messages:
                for block in message["blocks"]:
                    if not isinstance(block, dict):
                        continue
                    elements = [block.get("accessory"), *(block.get("elements") or [])]
                    for element in elements:
                        if not isinstance(element, dict) or element.get("type") != "button":
                            continue
                        key = (user.id, str(message["ts"]), str(block.get("block_id")),
                               str(element.get("action_id")), str(element.get("value", "")))  # fmt: skip
                        self._shown[key] = element
                        self._shown.move_to_end(key)
            while len(self._shown) > MAX_SHOWN:
                self._shown.popitem(last=False)

    def _note(self, user: User, text: str) -> None:
        self.channel.post(user=SLACKBOT.id, text=slack_escape(text), kind="system", visible_to=user.id)
