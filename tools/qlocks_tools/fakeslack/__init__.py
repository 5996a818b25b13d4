"""The one fake Slack, for the tests, the playground and the bench.

- ``api``: ``FakeSlack``, the Web API methods qlocks calls and its response_urls, recorded as ``Call``s, applied to
  a ``Channel``; served on its own loopback port (``serve()``) or mounted on the playground's server.
- ``channel``: the channel's people and messages (``Channel``, ``Message``, ``User``, the bot's identity).
- ``blocks``: what Slack accepts as a message (slack_sdk's Block Kit validators plus message-level rules).
- ``signing``: what Slack sends to the app (slash command forms, ``block_actions`` clicks), signed with slack_sdk's
  ``SignatureVerifier``, and ``BotLink`` to POST them.
- ``wire``: request bodies as Slack reads them and the loopback HTTP server.
"""

from qlocks_tools.fakeslack.api import RESPONSE_URL_TTL_S, RESPONSE_URL_USES, Call, FakeSlack
from qlocks_tools.fakeslack.channel import ALEX, BOT, DANA, SLACKBOT, TEAM_ID, Channel, Message, User
from qlocks_tools.fakeslack.signing import (
    BotLink,
    BotReply,
    block_actions_body,
    click,
    find_element,
    sign,
    signed_headers,
    slack_escape,
    slash_command,
)

__all__ = [
    "ALEX",
    "BOT",
    "DANA",
    "RESPONSE_URL_TTL_S",
    "RESPONSE_URL_USES",
    "SLACKBOT",
    "TEAM_ID",
    "BotLink",
    "BotReply",
    "Call",
    "Channel",
    "FakeSlack",
    "Message",
    "User",
    "block_actions_body",
    "click",
    "find_element",
    "sign",
    "signed_headers",
    "slack_escape",
    "slash_command",
]
