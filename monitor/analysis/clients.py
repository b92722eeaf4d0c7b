"""Clients per hosting provider: the provider x client cross-tab of one population.

For each of the largest providers (by units; "unknown", i.e. unattributed, is not a provider and gets no row) the
table gives the share of each client among that provider's units, with a Wilson 95 % interval and the row's own n.
Units without client info stay in their provider's row as client "unknown", so each row sums to 1 and says how much
of it rests on dialed nodes (``client_known``). Merged units (ip / prefix dedup) carry the representative provider
and client of :mod:`monitor.analysis.population`, the same ones the provider and client dimensions count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from monitor.analysis.concentration import UNKNOWN, Share, share_table, unit_key
from monitor.analysis.population import Denominator, Population

__all__ = [
    "TOP_PROVIDERS",
    "OTHER_CLIENTS",
    "ProviderClients",
    "ClientsByProvider",
    "clients_by_provider",
    "clients_from_pairs",
    "client_columns",
    "row_counts",
]

TOP_PROVIDERS = 10
OTHER_CLIENTS = "other"  # the remainder column of a capped table: every known client not shown by name


@dataclass(frozen=True, slots=True)
class ProviderClients:
    """One row: the client shares among the units of one provider."""

    provider: str
    n: int  # units of this provider: the denominator of the row's shares
    client_known: int  # of which with client info (the rest is the "unknown" share)
    shares: tuple[Share, ...]  # largest first, "unknown" included; they sum to 1

    def share_of(self, client: str) -> float:
        return next((s.share for s in self.shares if s.key == client), 0.0)


@dataclass(frozen=True, slots=True)
class ClientsByProvider:
    denominator: Denominator  # the population the table divides
    client_known: int  # units of the whole population with client info
    rows: tuple[ProviderClients, ...]  # the top providers, largest first (ties by name)
    providers_left_out: int  # attributed providers beyond the top
    units_left_out: int  # units of those providers and unattributed units: in no row

    @property
    def client_known_share(self) -> float | None:
        n = self.denominator.n
        return self.client_known / n if n else None


def clients_by_provider(population: Population, top: int = TOP_PROVIDERS) -> ClientsByProvider:
    """The client mix of each of the ``top`` largest providers of ``population``."""
    if top < 0:
        raise ValueError("top must be non-negative")
    pairs = Counter((unit_key(u, "provider"), unit_key(u, "client")) for u in population.units)
    client_known = sum(1 for u in population.units if unit_key(u, "client") != UNKNOWN)
    return clients_from_pairs(pairs, population.denominator, client_known, top)


def clients_from_pairs(
    pairs: Counter[tuple[str, str]], denominator: Denominator, client_known: int, top: int = TOP_PROVIDERS
) -> ClientsByProvider:
    """The cross-tab from (provider, client) -> units counts."""
    if top < 0:
        raise ValueError("top must be non-negative")
    per_provider: dict[str, Counter[str]] = {}
    for (provider, client), count in pairs.items():
        per_provider.setdefault(provider, Counter())[client] = count
    attributed = sorted(
        ((p, c) for p, c in per_provider.items() if p != UNKNOWN), key=lambda pc: (-pc[1].total(), pc[0])
    )
    rows = tuple(
        ProviderClients(
            provider=provider,
            n=clients.total(),
            client_known=clients.total() - clients[UNKNOWN],
            shares=share_table(clients, clients.total()),
        )
        for provider, clients in attributed[:top]
    )
    return ClientsByProvider(
        denominator=denominator,
        client_known=client_known,
        rows=rows,
        providers_left_out=max(0, len(attributed) - top),
        units_left_out=denominator.n - sum(r.n for r in rows),
    )


def client_columns(table: ClientsByProvider, limit: int) -> tuple[str, ...]:
    """The columns of a capped table: the ``limit`` known clients with the most units over the rows (largest first,
    ties by name), then ``other`` when some row has a client beyond them, then ``unknown``.

    A client literally named like the remainder column is never a column of its own: it joins the remainder.
    """
    totals: Counter[str] = Counter()
    for row in table.rows:
        for s in row.shares:
            if s.key != UNKNOWN:
                totals[s.key] += s.count
    ranked = [k for k, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])) if k != OTHER_CLIENTS]
    named = tuple(ranked[: max(0, limit)])
    rest = (OTHER_CLIENTS,) if any(k not in named for k in totals) else ()
    return (*named, *rest, UNKNOWN)


def row_counts(row: ProviderClients, columns: tuple[str, ...]) -> list[tuple[str, int]]:
    """(column, units) for each of ``columns`` (as made by :func:`client_columns`): a client's own units, for
    ``other`` the units of every known client not named, for ``unknown`` the units without client info. With the
    columns of :func:`client_columns` the counts sum to ``row.n``."""
    counts = {s.key: s.count for s in row.shares}
    named = [c for c in columns if c not in (OTHER_CLIENTS, UNKNOWN)]
    other = sum(c for k, c in counts.items() if k != UNKNOWN and k not in named)
    special = {OTHER_CLIENTS: other, UNKNOWN: counts.get(UNKNOWN, 0)}
    return [(c, special[c] if c in special else counts.get(c, 0)) for c in columns]
