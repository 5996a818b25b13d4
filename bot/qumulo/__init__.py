"""Qumulo REST API client: ``client`` (session, auth, endpoints), ``paging``, ``mapping`` (statuses -> ``errors``),
``models`` (typed records). Imports only the standard library, requests, urllib3 and ``bot.config``."""
