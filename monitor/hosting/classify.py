"""Classify user-given IP texts: each one's attribution, or why it has none (not an IP, private, reserved)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable
from typing import Any

from monitor.hosting.prefixes import is_public, parse_ip
from monitor.hosting.resolver import UNKNOWN, Resolver
from monitor.hosting.whois import WhoisAnswer, from_answer

__all__ = ["classify_inputs"]


def _input_error(resolver: Resolver, text: str) -> str | None:
    try:
        version, value = parse_ip(text)
    except ValueError:
        return "not an IP address"
    if not is_public(text) and not resolver.overlay_covers(version, value):
        return "private, loopback or reserved address: no hosting attribution (add an overlay with --ranges to map it)"
    return None


def classify_inputs(resolver: Resolver, inputs: Iterable[str]) -> list[dict[str, Any]]:
    """One row per input: the attribution fields, or ``error``. Unknown public IPs go to ``resolver.fallback``."""
    rows: list[dict[str, Any]] = []
    for text in inputs:
        error = _input_error(resolver, text)
        if error is not None:
            rows.append({"ip": text, "error": error})
        else:
            rows.append({"ip": text, **dataclasses.asdict(resolver.lookup(text))})
    if resolver.fallback is not None:
        unknown = [r["ip"] for r in rows if r.get("provider") == UNKNOWN]
        answers: dict[str, WhoisAnswer] = asyncio.run(resolver.fallback.lookup_many(unknown)) if unknown else {}
        for row in rows:
            if row["ip"] in answers and row.get("provider") == UNKNOWN:
                local = resolver.lookup(row["ip"])
                row.update(dataclasses.asdict(from_answer(resolver, local, answers[row["ip"]])))
    return rows
