"""The analysis tests' names for the shared record and snapshot builder (monitor/sim/synthetic.py)."""

from monitor.sim.synthetic import DATASETS, attribution, node, snapshot  # noqa: F401
