"""Simulation: local discovery networks with ground truth (devnet, with per-node misbehaviour in behaviour.py), the
made-up hosting overlay, the offline demo, and the one builder of made-up records and snapshots (synthetic.py) that
tests and benchmarks share. Crawls of simulated networks are marked simulated; nothing in the pipeline imports this."""
