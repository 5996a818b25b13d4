"""qlocks' tooling: the Qumulo cluster simulator, the local playground with the one fake Slack, the benchmark.

Installed by ``pip install 'qlocks[demo]'`` (``make demo`` / ``make test`` do it). The product (``bot``) never
imports this package; ``qlocks simulator|demo|bench`` load it on demand.
"""
