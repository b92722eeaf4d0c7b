"""A simulated hosting overlay for the devnet: loopback blocks labelled with providers and regions.

The mix is stated, not measured: loosely shaped like published execution-layer figures (a large AWS and
Hetzner presence, a long tail of smaller clouds, about 40 % residential / business networks) so that the demo's
tables and charts look like the real thing. Every figure computed from it is marked "simulated".
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

__all__ = ["SIMULATED_MIX", "BLOCK_PREFIX", "build_overlay"]

# provider -> (weight, [(region, country), ...])
SIMULATED_MIX: Final[dict[str, tuple[float, list[tuple[str, str]]]]] = {
    "aws": (0.20, [("us-east-1", "US"), ("us-east-2", "US"), ("eu-central-1", "DE"), ("ap-northeast-1", "JP")]),
    "hetzner": (0.16, [("fsn1", "DE"), ("nbg1", "DE"), ("hel1", "FI"), ("ash", "US")]),
    "ovh": (0.06, [("gra", "FR"), ("rbx", "FR"), ("bhs", "CA")]),
    "gcp": (0.05, [("us-central1", "US"), ("europe-west1", "BE")]),
    "contabo": (0.04, [("nuremberg", "DE"), ("st-louis", "US")]),
    "digitalocean": (0.03, [("fra1", "DE"), ("nyc3", "US")]),
    "azure": (0.02, [("eastus", "US"), ("westeurope", "NL")]),
    "other:Comcast Cable": (0.12, [("", "US")]),
    "other:Deutsche Telekom AG": (0.10, [("", "DE")]),
    "other:Orange S.A.": (0.07, [("", "FR")]),
    "other:KDDI Corporation": (0.05, [("", "JP")]),
    "other:Rogers Communications": (0.04, [("", "CA")]),
    "other:Telstra Limited": (0.06, [("", "AU")]),
}

BLOCK_PREFIX: Final = 30  # four addresses share a label, like a small hosted subnet


def build_overlay(ips: Sequence[str], seed: int, date: str | None = None) -> dict[str, Any]:
    """An overlay (the JSON form ``monitor snapshot --ranges`` reads) covering every address in ``ips``."""
    rng = random.Random(seed)
    providers = list(SIMULATED_MIX)
    weights = [SIMULATED_MIX[p][0] for p in providers]
    blocks = sorted({ipaddress.ip_network(f"{ip}/{BLOCK_PREFIX}", strict=False) for ip in ips})
    ranges = []
    for block in blocks:
        provider = rng.choices(providers, weights)[0]
        region, country = rng.choice(SIMULATED_MIX[provider][1])
        ranges.append({"prefix": str(block), "provider": provider, "region": region, "country": country})
    return {
        "date": date or datetime.now(UTC).strftime("%Y-%m-%d"),
        "note": "SIMULATED hosting labels for a loopback devnet; see monitor/devnet_overlay.py for the stated mix",
        "ranges": ranges,
    }
