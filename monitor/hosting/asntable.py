"""The curated AS table shipped as data (``data/asn_providers.csv``): AS → named provider and hosting category.

Each row names an AS by number and/or by the AS names GeoLite2 / iptoasn print for it, and gives a provider (empty:
the AS keeps its ``other:<AS name>`` label) and a category (:data:`monitor.snapshot.HOSTING_CATEGORIES`), with the
source of that fact and the date it was checked. Offline the bundled GeoLite2 tables carry AS *names* only, so every
row that matters lists its names; with AS numbers (a refreshed iptoasn file, or ipwhois) the number is tried first
and the name second (one company often runs several ASes under one name).

Two more layers decide the category of an AS that no row names:

1. a refreshed public datacenter ASN list (X4BNet ``lists_vpn`` ``input/datacenter/ASN.txt``, fetched by
   ``monitor data update``): every AS on it is ``hosting`` (by number, and by the AS handle or organisation its
   comment gives);
2. words in the AS name (:func:`category_of_name`): "University" → education, "Ministry" → government, "Hosting" /
   "Datacenter" → hosting, "Telecom" / "Broadband" / "Cable" → isp. A rule of thumb, not a fact: its accuracy is
   measured on the labelled set (tests/hosting/test_hosting_labelled.py) and it never names a provider.

Anything else is ``unknown``.
"""

from __future__ import annotations

import csv
import io
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from itertools import accumulate

from monitor.errors import DatasetError
from monitor.snapshot import HOSTING_CATEGORIES, HostingCategory

__all__ = ["NAME_RULES", "AsnRow", "ProviderAsns", "categories_of_names", "category_of_name", "read_asn_list"]

UNKNOWN: HostingCategory = "unknown"

# What an AS name must contain (casefolded, punctuation as spaces; " word " = a whole word) for each category,
# checked in this order: the first that matches decides. Education and government first ("University Hospital
# Cloud"), hosting before access ("Cloud Telecom"). Plain substring tests, not a regex: a regex of the same words
# measured about twice as slow, and a table build runs the rule on ~72,000 AS names.
NAME_RULES: tuple[tuple[HostingCategory, tuple[str, ...]], ...] = (
    ("education", ("universi", "college", "school", "academ", "research and education", "forschungsnetz", " edu ",
                   " nren ", " janet ")),
    ("government", ("government", "ministry", "ministerio", "ministere", " gov ", "county of", "city of", "state of",
                    "department of", "municipal")),
    ("hosting", ("hosting", "hoster", "datacenter", "data cent", "server", "colocation",
                 "dedicated", "bare metal", "baremetal", " host ", " vps ", " colo ", " cloud ", " idc ")),
    ("isp", ("telecom", "telekom", "broadband", "cable", "fiber", "fibre", "wireless", "mobile", "cellular",
             "internet service provider", "telefonica", "telenor", "comcast", "verizon", "vodafone", "swisscom",
             "proximus", "telstra", "rostelecom", " dsl ", " isp ", " charter ", " cox ", " orange ")),
)  # fmt: skip
_AS_SPACE = str.maketrans({c: " " for c in "-_.,;:()/&+'\"!"})


def category_of_name(name: str | None) -> HostingCategory:
    """The category the words of an AS name suggest (``unknown`` when none does); see the module docstring."""
    if not name:
        return UNKNOWN
    text = f" {name.casefold().translate(_AS_SPACE)} "
    for category, parts in NAME_RULES:
        for part in parts:
            if part in text:
                return category
    return UNKNOWN


def categories_of_names(names: Sequence[str | None]) -> list[HostingCategory]:
    """:func:`category_of_name` of many names at once (every AS label of a table being built): all names are joined
    into one text and each rule word is searched once in it (``str.find`` runs in C), instead of every word in every
    name; a hit's position says whose name it is. The same answers (tested on every bundled AS name), ~3x faster:
    ~0.08 s of CPU for the 72 k GeoLite2 names."""
    raw = [n or "" for n in names]
    text = (" " + " \n ".join(raw) + " ").casefold().translate(_AS_SPACE)  # one C pass each over all names
    if len(text) == sum(map(len, raw)) + 3 * len(raw) - 1 and text.count("\n") == len(raw) - 1:
        ends = list(accumulate(len(n) + 3 for n in raw))  # " name \n": no rule word spans two names
    else:  # a name that casefolds to another length ("ß" → "ss") or holds a newline: one at a time
        texts = [f" {n.casefold().translate(_AS_SPACE).replace(chr(10), ' ')} " for n in raw]
        ends = list(accumulate(len(t) + 1 for t in texts))
        text = "\n".join(texts)
    best = [len(NAME_RULES)] * len(raw)  # index of the first rule that matched, per name
    for k, (_category, parts) in enumerate(NAME_RULES):
        for part in parts:
            at = text.find(part)
            while at >= 0:
                i = bisect_right(ends, at)
                best[i] = min(best[i], k)
                at = text.find(part, ends[i])  # the next name: one hit per name is enough
    return [NAME_RULES[k][0] if k < len(NAME_RULES) else UNKNOWN for k in best]


@dataclass(frozen=True, slots=True)
class AsnRow:
    asn: int | None
    provider: str | None
    category: HostingCategory
    as_names: tuple[str, ...]
    source: str
    checked: str


@dataclass(frozen=True, slots=True)
class ProviderAsns:
    """The curated AS table, optionally extended by a refreshed datacenter ASN list (:meth:`with_hosting`)."""

    by_number: Mapping[int, str]  # AS number → provider
    by_name: Mapping[str, str]  # casefolded AS name → provider
    data_date: str
    categories: Mapping[int | str, HostingCategory] = field(default_factory=dict)  # AS number / casefolded name
    provider_categories: Mapping[str, HostingCategory] = field(default_factory=dict)
    rows: tuple[AsnRow, ...] = ()

    @classmethod
    def bundled(cls) -> ProviderAsns:
        text = resources.files("monitor.hosting").joinpath("data").joinpath("asn_providers.csv").read_text("utf-8")
        return cls.parse(text)

    @classmethod
    def parse(cls, text: str) -> ProviderAsns:
        """Rows of ``asn,provider,category,as_names,source,checked`` (``#`` comment lines; the last three optional)."""
        date = "unknown"
        for line in text.splitlines():
            if line.startswith("#") and "checked " in line:  # the table's own date: the first such line
                date = line.split("checked ", 1)[1][:10]
                break
        lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
        reader = csv.DictReader(io.StringIO("\n".join(lines)))
        if not reader.fieldnames or not {"asn", "provider"} <= set(reader.fieldnames):
            raise DatasetError("asn_providers.csv: missing header 'asn,provider,category,as_names,source,checked'")
        return cls.from_rows([_row(r, date) for r in reader], date)

    @classmethod
    def from_rows(cls, rows: Iterable[AsnRow], data_date: str) -> ProviderAsns:
        rows = tuple(rows)
        by_number: dict[int, str] = {}
        by_name: dict[str, str] = {}
        categories: dict[int | str, HostingCategory] = {}
        provider_categories: dict[str, HostingCategory] = {}
        for row in rows:
            keys: list[int | str] = [n.casefold() for n in row.as_names]
            if row.asn is not None:
                keys.append(row.asn)
            for key in keys:
                categories[key] = row.category
                if row.provider:
                    (by_number if isinstance(key, int) else by_name)[key] = row.provider  # type: ignore[index]
            if row.provider:
                provider_categories.setdefault(row.provider, row.category)
        return cls(by_number, by_name, data_date, categories, provider_categories, rows)

    def with_hosting(self, entries: Iterable[tuple[int, tuple[str, ...]]]) -> ProviderAsns:
        """This table plus a datacenter ASN list: listed ASes the curated rows do not name become ``hosting``."""
        categories = dict(self.categories)
        for asn, names in entries:
            keys: list[int | str] = [asn, *(n.casefold() for n in names)]
            for key in keys:
                categories.setdefault(key, "hosting")
        return replace(self, categories=categories)

    def provider_of(self, asn: int | None, name: str | None) -> str | None:
        """The named provider of an AS: by number first, then by name; ``None`` for everyone else."""
        found = self.by_number.get(asn) if asn is not None else None
        if found is None and name:
            found = self.by_name.get(name.casefold())
        return found

    def category_of(self, asn: int | None, name: str | None, by_name: HostingCategory | None = None) -> HostingCategory:
        """Curated row or datacenter list (number, then name), else the AS-name rule (``by_name``: its answer, when
        the caller already has it: fused tables keep it per AS label)."""
        found = self.categories.get(asn) if asn is not None else None
        if found is None and name:
            found = self.categories.get(name.casefold())
        if found is not None:
            return found
        return by_name if by_name is not None else category_of_name(name)

    def classify(
        self, asn: int | None, name: str | None, by_name: HostingCategory | None = None
    ) -> tuple[str | None, HostingCategory]:
        """``(provider_of, category_of)`` in one go (the resolver asks both for every AS it meets)."""
        key = name.casefold() if name else None
        provider = self.by_number.get(asn) if asn is not None else None
        category = self.categories.get(asn) if asn is not None else None
        if key is not None:
            provider = provider or self.by_name.get(key)
            category = category or self.categories.get(key)
        if category is None:
            category = by_name if by_name is not None else category_of_name(name)
        return provider, category

    def category_of_provider(self, provider: str) -> HostingCategory:
        """The category of a named provider (range datasets and overlays name providers, not ASes)."""
        return self.provider_categories.get(provider, UNKNOWN)

    def numbers(self, provider: str) -> list[int]:
        return sorted(n for n, p in self.by_number.items() if p == provider)


def _row(raw: Mapping[str, str | None], default_date: str) -> AsnRow:
    asn_text = (raw.get("asn") or "").strip()
    category = (raw.get("category") or "").strip() or UNKNOWN
    if (asn_text and not asn_text.isdigit()) or category not in HOSTING_CATEGORIES:
        raise DatasetError(f"asn_providers.csv: bad row {dict(raw)!r}")
    names = tuple(n.strip() for n in (raw.get("as_names") or "").split("|") if n.strip())
    provider = (raw.get("provider") or "").strip() or None
    if not asn_text and not names and provider is None:  # (a provider alone states its category: range-only ones)
        raise DatasetError(f"asn_providers.csv: row names neither an AS nor a provider: {dict(raw)!r}")
    return AsnRow(
        int(asn_text) if asn_text else None,
        provider,
        category,
        names,
        (raw.get("source") or "").strip(),
        (raw.get("checked") or "").strip() or default_date,
    )


_LIST_LINE = re.compile(r"^\s*AS(\d+)\s*(?:#\s*(.*))?$", re.I)


def read_asn_list(raw: bytes, source: str = "datacenter-asns") -> list[tuple[int, tuple[str, ...]]]:
    """X4BNet ``ASN.txt``: ``AS<number> # <handle> - <organisation>, <CC>`` per line → (number, names).

    The names are the handle before `` - `` and the organisation after it (country suffix dropped), the two forms
    GeoLite2 and iptoasn print; a bare comment gives one name.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DatasetError(f"{source}: not UTF-8 text: {err}") from err
    out: list[tuple[int, tuple[str, ...]]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LIST_LINE.match(line)
        if m is None:
            raise DatasetError(f"{source} line {lineno}: expected 'AS<number> # name', got {line[:80]!r}")
        comment = (m[2] or "").strip()
        parts = [p.strip() for p in comment.split(" - ", 1)] if comment else []
        names = tuple(re.sub(r",\s*[A-Z]{2}$", "", p).strip() for p in parts)
        out.append((int(m[1]), tuple(n for n in names if n)))
    if not out:
        raise DatasetError(f"{source}: no AS numbers (truncated or wrong file?)")
    return out
