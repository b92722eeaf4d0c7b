"""Simulation: local discovery networks with ground truth, the made-up hosting overlay, the offline demo and
synthetic snapshots for benchmarks. Everything here is marked simulated; nothing in the pipeline imports it."""
