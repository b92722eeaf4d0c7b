"""Seed data the tool starts from: the mainnet bootnode lists (execution and consensus) and the claims file.

The files live once, in the repository's top-level ``seeds/`` directory, where a reader finds them. This package holds
symbolic links to them, so a checkout (or an editable install) reads the very same bytes and a wheel build copies them
in as package data: there is no second copy to keep in step.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from monitor.analysis.claims import ClaimSet, parse_claims
from monitor.discovery.enode import Enode, load_node_urls
from monitor.errors import ConfigError

__all__ = ["read_seed", "load_claims", "mainnet_bootnodes", "consensus_bootnodes"]

CLAIMS = "claims.toml"
MAINNET_BOOTNODES = "mainnet-bootnodes.txt"
CONSENSUS_BOOTNODES = "consensus-bootnodes.txt"


def read_seed(name: str) -> str:
    """The text of one seed file shipped with the package."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def seed_lines(name: str) -> list[str]:
    """Non-empty, non-comment lines of a seed list."""
    return [line.strip() for line in read_seed(name).splitlines() if line.strip() and not line.startswith("#")]


def load_claims(path: Path | None = None) -> ClaimSet:
    """Read the claims file at ``path``, or the shipped ``seeds/claims.toml`` when it is None."""
    if path is None:
        return parse_claims(read_seed(CLAIMS), origin=f"seeds/{CLAIMS}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read claims file {path}: {err}") from err
    return parse_claims(text, origin=str(path))


def mainnet_bootnodes() -> list[Enode]:
    """go-ethereum's mainnet discv4 bootnodes (``seeds/mainnet-bootnodes.txt``)."""
    return load_node_urls(",".join(seed_lines(MAINNET_BOOTNODES)))


def consensus_bootnodes() -> list[Enode]:
    """Mainnet consensus-layer bootnodes (``seeds/consensus-bootnodes.txt``): ENRs, for discv5."""
    return load_node_urls(",".join(seed_lines(CONSENSUS_BOOTNODES)))
