"""Parse devp2p client id strings into name / version / OS / language; total (never raises).

    Geth/v1.14.11-stable-f3c696fa/linux-amd64/go1.23.2          name/version/os-arch/language
    Geth/my-node/v1.13.5-stable/linux-amd64/go1.21.4           an operator identity before the version
    Nethermind/v1.29.1+dfea5240/linux-x64/dotnet8.0.10
    erigon/v2.60.10-3e1a5a76/linux-amd64/go1.22.9
    besu/v24.10.0/linux-x86_64/openjdk-java-21
    reth/v1.1.2-496bf0b/x86_64-unknown-linux-gnu               no language segment (Rust, by the client)

Names are canonicalised (lowercase, known aliases) so client shares are not split by capitalisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["ClientId", "parse_client_id"]

_VERSION = re.compile(r"^v?\d+(\.\d+)+")
_OS_HINTS: Final = ("linux", "windows", "darwin", "macos", "osx", "freebsd", "openbsd", "android", "ios", "unknown")
_ARCH_HINTS: Final = ("amd64", "x86_64", "x64", "arm64", "aarch64", "arm", "386", "riscv")
_LANGUAGES: Final = (
    ("go", "go"),
    ("dotnet", "dotnet"),
    ("openjdk", "java"),
    ("java", "java"),
    ("rustc", "rust"),
    ("rust", "rust"),
    ("nodejs", "nodejs"),
    ("node", "nodejs"),
    ("nim", "nim"),
    ("python", "python"),
)
# Clients whose id has no language segment, and aliases of well-known names.
_IMPLIED_LANGUAGE: Final = {"reth": "rust", "nethermind": "dotnet", "besu": "java", "geth": "go", "erigon": "go"}
_ALIASES: Final = {"go-ethereum": "geth", "nethermind.runner": "nethermind", "ethereumjs-devp2p": "ethereumjs"}


@dataclass(frozen=True, slots=True)
class ClientId:
    raw: str
    name: str = ""  # canonical, lowercase ("geth", "nethermind", ...); "" if the id is empty
    version: str = ""  # as written, without the leading "v"
    identity: str = ""  # operator-chosen segment(s) between name and version
    os: str = ""  # e.g. "linux-amd64", "x86_64-unknown-linux-gnu"
    language: str = ""  # "go", "dotnet", "java", "rust", ... (implied for known clients)
    language_version: str = ""  # e.g. "go1.23.2", "openjdk-java-21", as written


def _looks_like_os(segment: str) -> bool:
    lowered = segment.lower()
    return any(h in lowered for h in _OS_HINTS + _ARCH_HINTS)


def _language(segment: str) -> str:
    lowered = segment.lower()
    for prefix, language in _LANGUAGES:
        if lowered.startswith(prefix):
            return language
    return ""


def _parse(raw: str) -> ClientId:
    text = "".join(ch for ch in raw if ch.isprintable()).strip()
    if not text:
        return ClientId(raw)
    parts = [p.strip() for p in text.split("/")]
    name = _ALIASES.get(parts[0].lower(), parts[0].lower())
    rest = parts[1:]
    version_at = next((i for i, p in enumerate(rest) if _VERSION.match(p)), None)
    identity, version = "", ""
    if version_at is not None:
        identity = "/".join(rest[:version_at])
        version = rest[version_at].removeprefix("v")
        rest = rest[version_at + 1 :]
    os_name = language_version = ""
    for segment in rest:
        if not os_name and _looks_like_os(segment) and not _language(segment):
            os_name = segment
        elif not language_version and _language(segment):
            language_version = segment
    if version_at is None and not os_name and not language_version and rest:
        identity = "/".join(rest)  # nothing recognisable: keep it, do not guess
    language = _language(language_version) or _IMPLIED_LANGUAGE.get(name, "")
    return ClientId(raw, name, version, identity, os_name, language, language_version)


def parse_client_id(raw: str) -> ClientId:
    """Best-effort parse; any input, including garbage, yields a ClientId (empty fields when unknown)."""
    try:
        return _parse(raw)
    except Exception:  # a parser bug must never lose a record: keep the raw string
        return ClientId(raw)
