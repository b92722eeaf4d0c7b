"""IP → ASN → provider → region attribution (docs/ARCHITECTURE.md "Attribution rules").

Entry points for the rest of the package:

- :func:`load_default_resolver` builds the lookup tables once per process (bundled data, refreshed files, overlays);
- :func:`attribute_snapshot` fills every node's :class:`~monitor.snapshot.Attribution` from local tables;
- :func:`attribute_snapshot_online` additionally asks the ipwhois fallback about addresses no local table knows.
"""

from __future__ import annotations

from monitor.hosting.loading import load_default_resolver, load_overlay
from monitor.hosting.resolver import Resolver, attribute_snapshot
from monitor.hosting.whois import WhoisFallback, attribute_snapshot_online

__all__ = [
    "Resolver",
    "WhoisFallback",
    "attribute_snapshot_online",
    "attribute_snapshot",
    "load_default_resolver",
    "load_overlay",
]
