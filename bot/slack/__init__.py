"""The Slack app: Bolt wiring (``app``, ``web``, ``run``), pure Block Kit renderers (``blocks``) and authorization.

Listeners stay thin (parse -> authorize -> call ``bot.locks`` -> render); every string from the cluster or a user is
escaped in ``bot.slack.text`` before it reaches mrkdwn.
"""
