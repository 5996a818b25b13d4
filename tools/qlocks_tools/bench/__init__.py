"""``qlocks bench``: search and close performance against the simulator, the seed tools and the physical limit.

Every measurement runs in a fresh worker subprocess (so peak RSS is that of the search alone) against a simulator
running in another subprocess. See ``docs/benchmark.md`` for the method.
"""
