"""Online fallback for addresses no local table knows: ``ipwhois`` (Team Cymru origin over DNS, then RDAP).

Why ipwhois: it already speaks Cymru's TXT format and RDAP with registry bootstrap, so we only add
what a crawler needs around it — a disk cache with a TTL, a rate limit, bounded concurrency and error translation.
ipwhois is blocking, so each query runs in a worker thread (``asyncio.to_thread``) under a semaphore. Its ``Net``
object builds a dnspython ``Resolver``; we point that resolver's ``nameservers``/``port`` at ``nameserver`` when given,
which is how tests talk to a fake Cymru responder on 127.0.0.1 (no monkeypatching, no public address).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.errors import DatasetError
from monitor.hosting.prefixes import is_public
from monitor.hosting.resolver import UNKNOWN, Resolver, attribute_snapshot
from monitor.hosting.store import atomic_write_bytes
from monitor.snapshot import Attribution, Snapshot

__all__ = ["WhoisAnswer", "WhoisFallback", "attribute_snapshot_online", "from_answer"]

log = logging.getLogger(__name__)

DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class WhoisAnswer:
    asn: int | None
    as_name: str | None
    country: str | None
    cidr: str | None
    method: str  # "cymru-dns" | "rdap"
    fetched_at: float


class WhoisFallback:
    """Cached, rate-limited, concurrent ASN lookups for unknown addresses."""

    def __init__(
        self,
        data_dir: Path,
        *,
        ttl: float = 30 * DAY,
        rate_per_second: float = 5.0,
        concurrency: int = 8,
        timeout: float = 5.0,
        nameserver: tuple[str, int] | None = None,
        rdap: bool = True,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.cache_path = data_dir / "cache" / "whois.json"
        self.ttl = ttl
        self.interval = 1.0 / rate_per_second if rate_per_second > 0 else 0.0
        self.concurrency = concurrency
        self.timeout = timeout
        self.nameserver = nameserver
        self.rdap = rdap
        self.now = now
        self._cache: dict[str, WhoisAnswer] | None = None
        self.queries = 0  # network lookups actually made (for tests and logs)

    def _load(self) -> dict[str, WhoisAnswer]:
        if self._cache is None:
            self._cache = {}
            try:
                doc = json.loads(self.cache_path.read_text("utf-8"))
                self._cache = {ip: WhoisAnswer(**v) for ip, v in doc.items()}
            except FileNotFoundError:
                pass
            except (OSError, ValueError, TypeError) as err:
                log.warning("ignoring unreadable whois cache %s: %s", self.cache_path, err)
        return self._cache

    def _save(self) -> None:
        doc = {ip: dataclasses.asdict(a) for ip, a in sorted(self._load().items())}
        try:
            atomic_write_bytes(self.cache_path, json.dumps(doc, indent=0).encode())
        except DatasetError as err:
            log.warning("cannot write whois cache %s: %s", self.cache_path, err)

    def cached(self, ip: str) -> WhoisAnswer | None:
        answer = self._load().get(ip)
        if answer is None or self.now() - answer.fetched_at > self.ttl:
            return None
        return answer

    async def lookup_many(self, ips: Iterable[str]) -> dict[str, WhoisAnswer]:
        """Answers for the public addresses among ``ips`` (cache first); failures are logged and left out."""
        wanted = sorted({ip for ip in ips if _public(ip)})
        out = {ip: a for ip in wanted if (a := self.cached(ip)) is not None}
        todo = [ip for ip in wanted if ip not in out]
        if not todo:
            return out
        sem = asyncio.Semaphore(self.concurrency)
        pace = asyncio.Lock()

        async def one(ip: str) -> None:
            async with sem:
                async with pace:  # space query starts by the rate limit
                    await asyncio.sleep(self.interval)
                self.queries += 1
                answer = await asyncio.to_thread(self._query, ip)
                if answer is not None:
                    out[ip] = answer
                    self._load()[ip] = answer

        await asyncio.gather(*(one(ip) for ip in todo))
        self._save()
        return out

    def _query(self, ip: str) -> WhoisAnswer | None:
        # ipwhois raises its own exception tree (and dnspython's); a failed lookup is "unknown", never fatal.
        from ipwhois.asn import IPASN
        from ipwhois.net import Net

        try:
            net = Net(ip, timeout=self.timeout)
            if self.nameserver is not None:
                net.dns_resolver.nameservers = [self.nameserver[0]]
                net.dns_resolver.port = self.nameserver[1]
            result = IPASN(net).lookup(asn_methods=["dns"], get_asn_description=True, retry_count=1)
            return self._answer(result, "cymru-dns")
        except Exception as err:
            log.info("Cymru DNS lookup failed for %s: %s", ip, err)
        if not self.rdap:
            return None
        try:
            from ipwhois import IPWhois

            result = IPWhois(ip, timeout=self.timeout).lookup_rdap(depth=0, retry_count=1, asn_methods=["http"])
            return self._answer(result, "rdap")
        except Exception as err:
            log.info("RDAP lookup failed for %s: %s", ip, err)
            return None

    def _answer(self, result: dict[str, Any], method: str) -> WhoisAnswer:
        asn_text = str(result.get("asn") or "").split(" ")[0]
        desc = result.get("asn_description")
        return WhoisAnswer(
            int(asn_text) if asn_text.isdigit() else None,
            str(desc).rsplit(",", 1)[0].strip() if desc else None,  # Cymru: "HETZNER-AS, DE"
            (result.get("asn_country_code") or None),
            result.get("asn_cidr") or None,
            method,
            self.now(),
        )


def _public(ip: str) -> bool:
    try:
        return is_public(ip)
    except ValueError:
        return False


def from_answer(resolver: Resolver, local: Attribution, answer: WhoisAnswer) -> Attribution:
    """The attribution an ipwhois answer gives, keeping the local country (geolocation beats registry country)."""
    provider = resolver.provider_of_asn(answer.asn, answer.as_name)
    label = provider or f"other:{answer.as_name or (f'AS{answer.asn}' if answer.asn else UNKNOWN)}"
    country = local.country or answer.country
    category = resolver.category_of_asn(answer.asn, answer.as_name)
    date = datetime.fromtimestamp(answer.fetched_at, UTC).strftime("%Y-%m-%d")
    source = f"ipwhois:{answer.method}"
    return Attribution(label, None, country, answer.asn, answer.as_name, source, date, category)  # AS: no region


async def attribute_snapshot_online(
    snapshot: Snapshot, resolver: Resolver, fallback: WhoisFallback | None = None
) -> Snapshot:
    """:func:`attribute_snapshot`, then ask the ipwhois fallback (``fallback`` or ``resolver.fallback``) about every
    node the local tables left ``unknown``. Without a fallback (offline) this is the local result."""
    attributed = attribute_snapshot(snapshot, resolver)
    fallback = fallback or resolver.fallback
    if fallback is None:
        return attributed
    unknown = [n.ip or n.advertised_ip for n in attributed.nodes if n.attribution and n.attribution.provider == UNKNOWN]
    answers = await fallback.lookup_many(ip for ip in unknown if ip)
    if not answers:
        return attributed
    nodes = []
    for node in attributed.nodes:
        answer = answers.get(node.ip or node.advertised_ip or "")
        if answer is not None and node.attribution is not None and node.attribution.provider == UNKNOWN:
            node = dataclasses.replace(node, attribution=from_answer(resolver, node.attribution, answer))
        nodes.append(node)
    return dataclasses.replace(attributed, nodes=tuple(nodes))
