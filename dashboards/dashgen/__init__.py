"""The Grafana dashboards of eth-hosting-monitor as code (grafana-foundation-sdk); dashboards/generate.py writes them.

Modules: ``common`` (data source, selectors, denominators and the panel builders every row shares), ``variables``
(dashboard variables), one ``panels_*`` module per row group, and ``overview`` (the overview dashboard put together).
"""

from __future__ import annotations

from dashgen.overview import OVERVIEW_UID, build_overview

__all__ = ["OVERVIEW_UID", "build_overview"]
