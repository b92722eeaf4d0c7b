"""The project's single exception tree.

Third-party errors are translated at the boundary where they enter (``raise X(...) from err``) so callers
only ever need to catch :class:`MonitorError` or one of its children.
"""

from __future__ import annotations

__all__ = [
    "MonitorError",
    "ConfigError",
    "DecodeError",
    "SignatureError",
    "ExpiredError",
    "NetworkError",
    "NetrestrictError",
    "RequestTimeout",
    "CrawlError",
    "SnapshotError",
    "DatasetError",
]


class MonitorError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(MonitorError):
    """Bad settings or command-line usage (exit code 2)."""


class DecodeError(MonitorError):
    """Bytes from the network or disk that do not decode to a valid value."""


class SignatureError(DecodeError):
    """A packet or record whose signature or hash does not verify."""


class ExpiredError(DecodeError):
    """A packet whose absolute expiration time has passed."""


class NetworkError(MonitorError):
    """A socket-level failure."""


class NetrestrictError(NetworkError):
    """A send to an address outside the configured ``--netrestrict`` range was refused."""


class RequestTimeout(NetworkError):
    """A request got no (complete) reply before its deadline."""


class CrawlError(MonitorError):
    """A crawl that cannot proceed (for example: no bootnode answered)."""


class SnapshotError(MonitorError):
    """A snapshot file that cannot be read or written."""


class DatasetError(MonitorError):
    """An IP dataset that is missing, malformed or cannot be refreshed."""
