"""Local playground: a fake Slack channel in the browser, driving the real bot against the cluster simulator.

``start_playground(...)`` (``qlocks_tools.playground.stack``) starts everything in-process; ``run_demo`` (``qlocks_tools.playground.demo``)
wraps it for ``qlocks demo``. The playground imports the bot the way a deployment does (``bot.slack.app.build_app``
and ``bot.slack.web.make_wsgi_app``) and talks to it only over signed HTTP requests.
"""
