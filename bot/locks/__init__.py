"""Lock search and close: the domain. Imports nothing from Slack.

- ``query``: ``parse_query(text) -> Query`` / ``QueryError`` (every input form; Slack entity unescaping);
- ``service``: ``LockService`` (``search``, ``recheck``, ``close``, ``invalidate``, ``shutdown``);
- ``searches`` / ``scan``: the strategies (narrow O(1) lookup for full paths, bounded scans for the rest);
- ``join``: the pure handle + grant + session join, access/share-mode names, culprit-first sorting;
- ``directory``: cached shares, sessions, identity names and host names (TTL + single-flight, degradations);
- ``match``: ``host:`` / ``user:`` matching and "did you mean" hints;
- ``shares``: share name <-> filesystem path; ``cache``: ``TTLCache``; ``close``: pure close decisions;
- ``report``: JSON dict and terminal table of a result; ``cli``: ``run_search`` for ``qlocks search``.
"""
