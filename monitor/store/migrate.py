"""Versioned schema migrations: explicit SQL files in ``monitor/store/sql/<backend>/NNNN_name.sql``.

Each file is applied once, in order, in its own transaction, and recorded in the ``schema_migrations`` table with the
SHA-256 of its text. Opening a database checks that record against the files shipped with this version: a migration
whose text changed after it was applied, or a database migrated by a newer version (a version this one does not
know), is an error rather than a silent drift. Applied files are never edited; a schema change is a new file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from monitor.store.base import StoreError

__all__ = ["Migration", "migrations", "check_applied", "pending"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def migrations(backend: str) -> tuple[Migration, ...]:
    """The migrations shipped for ``backend`` ("sqlite" | "postgresql"), oldest first."""
    found: list[Migration] = []
    for entry in resources.files("monitor.store").joinpath("sql", backend).iterdir():
        match = _NAME.match(entry.name)
        if match is not None:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise StoreError(f"{backend} migrations are not numbered 1..n: {versions}")
    return tuple(found)


def check_applied(applied: Mapping[int, str], available: Sequence[Migration], where: str) -> None:
    """Refuse a database whose recorded migrations are not a prefix of ``available`` with the same checksums."""
    known = {m.version: m for m in available}
    for version, checksum in sorted(applied.items()):
        migration = known.get(version)
        if migration is None:
            raise StoreError(
                f"{where}: schema version {version} is newer than this monitor knows "
                f"(latest {max(known, default=0)}); upgrade monitor before using this database"
            )
        if migration.checksum != checksum:
            raise StoreError(
                f"{where}: migration {version:04d}_{migration.name} was applied from a different text "
                f"(checksum {checksum[:12]} != {migration.checksum[:12]}); refusing to guess the schema"
            )
    versions = sorted(applied)
    if versions != list(range(1, len(versions) + 1)):
        raise StoreError(f"{where}: applied migrations have a gap: {versions}")


def pending(applied: Mapping[int, str], available: Sequence[Migration]) -> list[Migration]:
    return [m for m in available if m.version not in applied]
