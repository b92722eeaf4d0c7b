"""The JSON form of an analysis and of a claim check: what ``--json`` prints and what ``monitor serve`` stores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.analysis.claims import ExternalFigure
from monitor.analysis.context import SnapshotContext
from monitor.analysis.report import Analysis
from monitor.analysis.verdict import ClaimResult
from monitor.snapshot import to_plain

__all__ = ["ANALYSIS_JSON_SCHEMA", "analysis_to_dict", "claims_to_dict"]

ANALYSIS_JSON_SCHEMA = 1


def analysis_to_dict(analysis: Analysis) -> dict[str, Any]:
    """The whole analysis as JSON-ready data (lists, dicts, str, int, float, bool, None)."""
    data: dict[str, Any] = {"schema": ANALYSIS_JSON_SCHEMA, "kind": "analysis"}
    data.update(to_plain(analysis))
    return data


def claims_to_dict(
    context: SnapshotContext, results: Sequence[ClaimResult], external: Sequence[ExternalFigure], min_n: int
) -> dict[str, Any]:
    return {
        "schema": ANALYSIS_JSON_SCHEMA,
        "kind": "claims",
        "context": to_plain(context),
        "min_n_for_verdict": min_n,
        "claims": to_plain(list(results)),
        "external": to_plain(list(external)),
    }
