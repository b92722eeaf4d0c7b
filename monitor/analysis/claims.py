"""Claims to check and published reference figures, parsed from the TOML text of a claims file.

Reading the file is the caller's business (``monitor.seeds.load_claims``): this module stays pure.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from monitor.errors import ConfigError

__all__ = [
    "CLAIMS_SCHEMA",
    "Relation",
    "ClaimSource",
    "Claim",
    "ExternalFigure",
    "ClaimSet",
    "parse_claims",
]

CLAIMS_SCHEMA = 1
Relation = Literal["approx", "above", "equal"]
_RELATIONS: tuple[Relation, ...] = ("approx", "above", "equal")


@dataclass(frozen=True, slots=True)
class ClaimSource:
    outlet: str
    title: str
    date: dt.date
    original_publisher: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    id: str
    provider: str
    share: float
    layer: str
    summary: str
    source: ClaimSource
    denominator_stated: bool
    method_stated: bool
    measurement_date_stated: bool
    data_source_stated: bool
    denominator: str | None = None  # what the source says it counted, when it says


@dataclass(frozen=True, slots=True)
class ExternalFigure:
    """A figure someone else published: context beside our verdicts, never an input to them."""

    id: str
    date: str  # as precise as the publication is: "2019-09" or "2025-03-02"
    source: str
    provider: str
    share: float
    relation: Relation
    layer: str
    denominator: str
    population_n: int | None = None
    population_note: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimSet:
    origin: str  # the file it came from
    claims: tuple[Claim, ...]
    external: tuple[ExternalFigure, ...]


def _get(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in table:
        raise ConfigError(f"{where}: missing '{key}'")
    value = table[key]
    # bool is an int subclass in Python; a share written as `true` must not pass as a number.
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        raise ConfigError(f"{where}: '{key}' has the wrong type ({type(value).__name__})")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _share(table: Mapping[str, Any], where: str) -> float:
    share = float(_get(table, "share", (int, float), where))
    if not 0.0 <= share <= 1.0:
        raise ConfigError(f"{where}: share {share} is not a fraction in [0, 1]")
    return share


def _parse_claim(table: Mapping[str, Any], where: str) -> Claim:
    src = _get(table, "source", dict, where)
    source = ClaimSource(
        outlet=_get(src, "outlet", str, f"{where}.source"),
        title=_get(src, "title", str, f"{where}.source"),
        date=_get(src, "date", dt.date, f"{where}.source"),
        original_publisher=src.get("original_publisher"),
    )
    return Claim(
        id=_get(table, "id", str, where),
        provider=_get(table, "provider", str, where),
        share=_share(table, where),
        layer=_get(table, "layer", str, where),
        summary=_get(table, "summary", str, where),
        source=source,
        denominator_stated=_get(table, "denominator_stated", bool, where),
        method_stated=_get(table, "method_stated", bool, where),
        measurement_date_stated=_get(table, "measurement_date_stated", bool, where),
        data_source_stated=_get(table, "data_source_stated", bool, where),
        denominator=table.get("denominator"),
    )


def _parse_external(table: Mapping[str, Any], where: str) -> ExternalFigure:
    relation = _get(table, "relation", str, where)
    if relation not in _RELATIONS:
        raise ConfigError(f"{where}: relation must be one of {', '.join(_RELATIONS)}")
    n = table.get("population_n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        raise ConfigError(f"{where}: population_n must be a non-negative integer")
    return ExternalFigure(
        id=_get(table, "id", str, where),
        date=str(_get(table, "date", (str, dt.date), where)),
        source=_get(table, "source", str, where),
        provider=_get(table, "provider", str, where),
        share=_share(table, where),
        relation=relation,
        layer=_get(table, "layer", str, where),
        denominator=_get(table, "denominator", str, where),
        population_n=n,
        population_note=table.get("population_note"),
    )


def parse_claims(text: str, origin: str = "<string>") -> ClaimSet:
    """Parse and validate a claims file; every problem is a :class:`ConfigError` naming the entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{origin}: not valid TOML: {err}") from err
    if data.get("schema") != CLAIMS_SCHEMA:
        raise ConfigError(f"{origin}: unsupported claims schema {data.get('schema')!r} (expected {CLAIMS_SCHEMA})")
    claims = tuple(_parse_claim(t, f"{origin}: claim {i + 1}") for i, t in enumerate(_tables(data, "claim", origin)))
    external = tuple(
        _parse_external(t, f"{origin}: external {i + 1}") for i, t in enumerate(_tables(data, "external", origin))
    )
    ids = [c.id for c in claims] + [e.id for e in external]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(f"{origin}: duplicate ids: {', '.join(duplicates)}")
    return ClaimSet(origin=origin, claims=claims, external=external)


def _tables(data: Mapping[str, Any], key: str, origin: str) -> list[Mapping[str, Any]]:
    tables = data.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{origin}: '{key}' must be an array of tables ([[{key}]])")
    return tables
