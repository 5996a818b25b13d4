"""A Qumulo cluster simulator: real HTTP(S) on loopback, the same wire format as Qumulo Core's REST API.

Used by tests, benchmarks, ``qlocks simulator`` and the demo. Production code never imports it, and it imports
nothing from ``bot.qumulo.client`` or ``bot.qumulo.models`` so it checks the client against the wire format.

    from qlocks_tools.simulator import start_simulator
    with start_simulator(port=0, handles=300, seed=1) as sim:
        sim.url, sim.admin_token, sim.state.add_handle("/finance/x.xlsx", user="dana")
"""

from qlocks_tools.simulator.runner import Simulator, start_simulator
from qlocks_tools.simulator.state import ClusterState

__all__ = ["ClusterState", "Simulator", "start_simulator"]
