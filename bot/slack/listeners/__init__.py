"""Listener wiring: ``register(app, deps)`` binds the slash command and the buttons; handler bodies live beside it."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.deps import Deps
from bot.slack.listeners import actions, commands


def register(app: App, deps: Deps) -> None:
    commands.register(app, deps)
    actions.register(app, deps)
