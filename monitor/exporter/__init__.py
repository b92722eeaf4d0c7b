"""``monitor serve``: a long-running exporter of hosting-concentration figures (docs/ARCHITECTURE.md "Metrics").

- :mod:`~monitor.exporter.metrics` the metric contract (names and fixed label sets);
- :mod:`~monitor.exporter.families` snapshot document + crawl health -> rendered metric families;
- :mod:`~monitor.exporter.collector` a prometheus_client collector over the current metric set;
- the history store is :mod:`monitor.store` (SQLite or PostgreSQL);
- :mod:`~monitor.exporter.service` the scheduled crawl job and the immutable view it swaps in;
- :mod:`~monitor.exporter.app` the aiohttp routes (the ``monitor serve`` command is :mod:`monitor.cli.serve`).
"""

from __future__ import annotations

__all__: list[str] = []
