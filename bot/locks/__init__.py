"""Lock search and close: the domain. Imports nothing from Slack; takes and returns plain text.

- ``query``: ``parse_query(text) -> Query`` / ``QueryError`` (every input form; ``EXAMPLES``);
- ``service``: ``LockService`` (``search(query)``, ``recheck``, ``close``, ``invalidate``, ``shutdown``);
- ``searches``: the strategies over a ``SearchContext`` (``by_path``: the narrow O(1) lookup for full paths;
  ``by_fragment``, ``by_user``, ``by_client``: bounded scans); ``scan`` / ``prefetch``: listing mechanics;
- ``assemble``: ``narrow`` (one file's handles and grants) and ``join`` (rows from the directory's caches);
- ``join``: the pure handle + grant + session join, access/share-mode names, culprit-first sorting;
- ``directory``: cached shares, sessions, identity names and host names (TTL + single-flight, degradations);
- ``match``: ``host:`` / ``user:`` matching and "did you mean" hints;
- ``shares``: share name <-> filesystem path; ``cache``: ``TTLCache``; ``close``: pure close decisions;
- ``report``: JSON dict and terminal table of a result (``qlocks search``); ``timefmt``: durations.
"""
