"""The metric contract of ``monitor serve``: names, help texts and the fixed label sets.

Dashboards and alert rules are written against exactly these names; renaming one is a breaking change.

===============================================  =======  =====================================================
name                                             type     labels
===============================================  =======  =====================================================
eth_hosting_nodes                                gauge    network, layer, scope, provider
eth_hosting_share_ratio                          gauge    network, layer, scope, dedup, dimension, key
eth_hosting_share_ci_low_ratio                   gauge    network, layer, scope, dedup, dimension, key
eth_hosting_share_ci_high_ratio                  gauge    network, layer, scope, dedup, dimension, key
eth_hosting_hhi                                  gauge    network, layer, scope, dedup, dimension, family
eth_hosting_nakamoto_coefficient                 gauge    network, layer, scope, dedup, dimension, family, threshold
eth_hosting_population_units                     gauge    network, layer, scope, dedup
eth_hosting_client_share_by_provider_ratio       gauge    network, layer, scope, provider, client
eth_hosting_claim_share_ratio                    gauge    claim, layer, denominator
eth_hosting_claim_share_ci_low_ratio             gauge    claim, layer, denominator
eth_hosting_claim_share_ci_high_ratio            gauge    claim, layer, denominator
eth_hosting_claim_consistent                     gauge    claim, layer, denominator
eth_hosting_claim_verdict                        gauge    claim, layer, denominator, verdict
eth_hosting_claim_primary                        gauge    claim, layer, denominator
eth_hosting_claim_design_effect                  gauge    claim, layer, denominator
eth_hosting_crawl_duration_seconds               gauge    (none)
eth_hosting_crawl_last_success_timestamp_seconds gauge    (none)
eth_hosting_crawl_nodes_discovered               gauge    (none)
eth_hosting_crawl_packets_total                  counter  direction, type
eth_hosting_crawl_errors_total                   counter  kind
eth_hosting_crawls_total                         counter  result
eth_hosting_dataset_age_seconds                  gauge    dataset
eth_hosting_snapshot_timestamp_seconds           gauge    (none)
eth_hosting_simulated                            gauge    (none)
eth_hosting_build_info                           gauge    version
eth_hosting_vantage_points                       gauge    (none)
eth_hosting_vantage_nodes                        gauge    vantage, scope
eth_hosting_vantage_exclusive_nodes              gauge    vantage
eth_hosting_vantage_coverage_ratio               gauge    vantage
eth_hosting_vantage_overlap_nodes                gauge    (none)
eth_hosting_vantage_provider_share_ratio         gauge    vantage, provider
eth_hosting_vantage_snapshot_timestamp_seconds   gauge    vantage
===============================================  =======  =====================================================

Label values: ``layer`` all | execution | consensus (the records counted: every record, or one layer's, from the
record's ``layer``: an ``eth`` entry / RLPx Status = execution, an ``eth2`` entry = consensus); ``scope`` discovered |
reachable | mainnet | hosted (cloud + hosting: nodes in data centres); ``dedup`` node | ip | prefix; ``dimension``
provider | category | region | country | asn | client; ``family`` operators | hosted; ``threshold`` "0.33" | "0.5";
``verdict`` consistent | higher | lower | insufficient;
``denominator`` an analysis population name such as "reachable/ip" (scope/dedup; the layer is the ``layer`` label);
``key`` one of the top-K categories of the dimension (for ``provider`` also every known provider, for ``client`` also
"unknown", for ``category`` always hosted, other and unknown) or "other" for the rest; ``provider`` / ``client`` of the
cross-tab: one of the top-K providers, and one of the population's top-K clients, "other" or "unknown". No label ever
carries an IP, a node id or an exception text, so the number of series is bounded whatever the crawl finds.

Layers, families and the residential share (issues 12, 14, 15):
- ``layer="all"`` carries exactly the series that existed before the label was added (every record); the layer
  views add ``layer="execution"`` and ``layer="consensus"``. A query without a ``layer`` matcher now sees three series
  per population: select ``layer="all"`` to keep today's meaning.
- ``family`` says which units HHI and Nakamoto are computed over: ``operators`` = every attributed unit, each ISP or
  other access network its own operator (the values these families had before the label); ``hosted`` = units in data
  centres only (attribution category cloud or hosting), which is what "the network is concentrated in a few hosting
  providers" means. ``hosted`` exists for the dimensions whose units have a hosting category (not client, category).
- The residential / other share is ``eth_hosting_share_ratio{dimension="category",key="other"}`` (ISP, education,
  government networks), beside ``key="hosted"`` and ``key="unknown"``; the three always exist, summing to 1.
- "AWS share of hosted nodes" is ``eth_hosting_share_ratio{scope="hosted",dimension="provider",key="aws"}``.
- Share intervals are the analysis' own: for per-node populations cluster-robust (IP as cluster, Wilson at the Kish
  effective n), so they are wider than a plain Wilson interval on node counts wherever one IP carries many node ids;
  the "other" remainder and zero-count keys carry the plain Wilson interval. The claim intervals likewise;
  ``eth_hosting_claim_design_effect`` states the design effect behind them (1 where units are independent).
- Claims: every claim is checked on each layer (``layer`` label); ``eth_hosting_claim_primary`` is 1 on the claim's
  own layer (execution for the AWS 23 % claim) and 0 on the others, which are context. A withheld verdict (too few
  units, or fewer than 80 % of them attributed: "insufficient attribution") is ``verdict="insufficient"``.

Vantage points (several crawlers writing one shared store, monitor/store/vantage.py): the ``eth_hosting_vantage_*``
families describe the latest successful crawl of every vantage point within the vantage window. ``vantage`` is a
crawler's name (``--vantage``) for at most ``--max-vantages`` of them (the most recent), so the label stays bounded,
or ``combined`` for the union of all of them (a node seen from any vantage); ``scope`` is discovered | reachable.
``eth_hosting_vantage_coverage_ratio`` is a vantage's share of the union, ``eth_hosting_vantage_exclusive_nodes`` the
nodes only it saw, ``eth_hosting_vantage_overlap_nodes`` the nodes every vantage saw. The families without a
``vantage`` label describe the served snapshot: a crawler's own, or the combined one in ``--role api``.

Clients: a client name ("geth", "nethermind", ...) is known only for nodes the crawler dialed over RLPx and that sent a
Hello; the others are counted under ``key="unknown"`` (``dimension="client"``), so ``1 - share{key="unknown"}`` is the
fraction of the population with client info. The client HHI and Nakamoto count units with client info only.
``eth_hosting_client_share_by_provider_ratio`` is the share of each client among the node ids (dedup node) of one
provider in the scope; per provider it sums to 1 over its clients, "other" and "unknown", and the provider's n is
``eth_hosting_nodes`` with the same network, scope and provider.

Semantics worth knowing when writing rules: a figure that is undefined (a share or HHI over an empty population) is
absent rather than 0; ``eth_hosting_population_units`` says when that is the case. ``eth_hosting_nodes`` counts node
records (dedup by node id). ``eth_hosting_crawl_duration_seconds`` is the wall time of the last crawl attempt,
successful or not. ``eth_hosting_dataset_age_seconds`` is measured when the metric set is built (after every crawl
attempt), not at scrape time. The counters persist across restarts (they are kept in the history database).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "NODES",
    "SHARE",
    "SHARE_CI_LOW",
    "SHARE_CI_HIGH",
    "HHI",
    "NAKAMOTO",
    "POPULATION_UNITS",
    "CLIENT_SHARE_BY_PROVIDER",
    "CLAIM_SHARE",
    "CLAIM_SHARE_CI_LOW",
    "CLAIM_SHARE_CI_HIGH",
    "CLAIM_CONSISTENT",
    "CLAIM_VERDICT",
    "CLAIM_PRIMARY",
    "CLAIM_DESIGN_EFFECT",
    "CRAWL_DURATION",
    "CRAWL_LAST_SUCCESS",
    "CRAWL_NODES_DISCOVERED",
    "CRAWL_PACKETS",
    "CRAWL_ERRORS",
    "CRAWLS",
    "DATASET_AGE",
    "SNAPSHOT_TIMESTAMP",
    "SIMULATED",
    "BUILD_INFO",
    "VANTAGE_POINTS",
    "VANTAGE_NODES",
    "VANTAGE_EXCLUSIVE_NODES",
    "VANTAGE_COVERAGE",
    "VANTAGE_OVERLAP_NODES",
    "VANTAGE_PROVIDER_SHARE",
    "VANTAGE_SNAPSHOT_TIMESTAMP",
    "ALL_METRICS",
    "HELP",
    "OTHER_KEY",
    "ALL_LAYERS",
    "LAYERS",
    "FAMILY_OPERATORS",
    "FAMILY_HOSTED",
    "FAMILIES",
    "CATEGORY_KEYS",
    "THRESHOLD_LABELS",
    "PACKET_DIRECTIONS",
    "PACKET_TYPES",
    "ERROR_KINDS",
    "JOB_ERROR_KINDS",
    "PACKET_ERROR_COUNTERS",
    "CRAWL_RESULTS",
]

NODES: Final = "eth_hosting_nodes"
SHARE: Final = "eth_hosting_share_ratio"
SHARE_CI_LOW: Final = "eth_hosting_share_ci_low_ratio"
SHARE_CI_HIGH: Final = "eth_hosting_share_ci_high_ratio"
HHI: Final = "eth_hosting_hhi"
NAKAMOTO: Final = "eth_hosting_nakamoto_coefficient"
POPULATION_UNITS: Final = "eth_hosting_population_units"
CLIENT_SHARE_BY_PROVIDER: Final = "eth_hosting_client_share_by_provider_ratio"
CLAIM_SHARE: Final = "eth_hosting_claim_share_ratio"
CLAIM_SHARE_CI_LOW: Final = "eth_hosting_claim_share_ci_low_ratio"
CLAIM_SHARE_CI_HIGH: Final = "eth_hosting_claim_share_ci_high_ratio"
CLAIM_CONSISTENT: Final = "eth_hosting_claim_consistent"
CLAIM_VERDICT: Final = "eth_hosting_claim_verdict"
CLAIM_PRIMARY: Final = "eth_hosting_claim_primary"
CLAIM_DESIGN_EFFECT: Final = "eth_hosting_claim_design_effect"
CRAWL_DURATION: Final = "eth_hosting_crawl_duration_seconds"
CRAWL_LAST_SUCCESS: Final = "eth_hosting_crawl_last_success_timestamp_seconds"
CRAWL_NODES_DISCOVERED: Final = "eth_hosting_crawl_nodes_discovered"
CRAWL_PACKETS: Final = "eth_hosting_crawl_packets_total"
CRAWL_ERRORS: Final = "eth_hosting_crawl_errors_total"
CRAWLS: Final = "eth_hosting_crawls_total"
DATASET_AGE: Final = "eth_hosting_dataset_age_seconds"
SNAPSHOT_TIMESTAMP: Final = "eth_hosting_snapshot_timestamp_seconds"
SIMULATED: Final = "eth_hosting_simulated"
BUILD_INFO: Final = "eth_hosting_build_info"
VANTAGE_POINTS: Final = "eth_hosting_vantage_points"
VANTAGE_NODES: Final = "eth_hosting_vantage_nodes"
VANTAGE_EXCLUSIVE_NODES: Final = "eth_hosting_vantage_exclusive_nodes"
VANTAGE_COVERAGE: Final = "eth_hosting_vantage_coverage_ratio"
VANTAGE_OVERLAP_NODES: Final = "eth_hosting_vantage_overlap_nodes"
VANTAGE_PROVIDER_SHARE: Final = "eth_hosting_vantage_provider_share_ratio"
VANTAGE_SNAPSHOT_TIMESTAMP: Final = "eth_hosting_vantage_snapshot_timestamp_seconds"

HELP: Final[dict[str, str]] = {
    NODES: "Node records per hosting provider in the latest snapshot (top-K, known providers, and other).",
    SHARE: "Share of the population's units in each category (top-K per dimension, rest as other).",
    SHARE_CI_LOW: "Lower end of the Wilson 95% interval of eth_hosting_share_ratio.",
    SHARE_CI_HIGH: "Upper end of the Wilson 95% interval of eth_hosting_share_ratio.",
    HHI: "Herfindahl-Hirschman index (0-1) over attributed units (family: all operators, or hosted units only).",
    NAKAMOTO: (
        "Fewest categories holding more than the threshold share of attributed units (family: all operators, or "
        "hosted units only)."
    ),
    POPULATION_UNITS: "Units in the population (the denominator n of its shares).",
    CLIENT_SHARE_BY_PROVIDER: (
        "Share of each client among the node ids of a provider (top-K providers and clients, other, unknown = no "
        "client info); the provider's n is eth_hosting_nodes."
    ),
    CLAIM_SHARE: "Measured share of the claimed provider under the denominator.",
    CLAIM_SHARE_CI_LOW: "Lower end of the Wilson 95% interval of eth_hosting_claim_share_ratio.",
    CLAIM_SHARE_CI_HIGH: "Upper end of the Wilson 95% interval of eth_hosting_claim_share_ratio.",
    CLAIM_CONSISTENT: "1 when the claimed share lies inside the measured interval, else 0.",
    CLAIM_VERDICT: "1 for the current verdict of the claim under the denominator, 0 for the others.",
    CLAIM_PRIMARY: "1 on the claim's own layer (its verdict), 0 on the other layers (context).",
    CLAIM_DESIGN_EFFECT: "Design effect of the claimed provider's share (IP as cluster; 1 for independent units).",
    CRAWL_DURATION: "Wall time of the last crawl attempt in seconds.",
    CRAWL_LAST_SUCCESS: "UNIX time at which the last successful crawl ended.",
    CRAWL_NODES_DISCOVERED: "Nodes discovered by the crawl behind the latest snapshot.",
    CRAWL_PACKETS: "Discovery packets sent and received, summed over crawls.",
    CRAWL_ERRORS: "Crawl errors by kind, summed over crawls.",
    CRAWLS: "Crawl attempts by result.",
    DATASET_AGE: "Age of each attribution dataset behind the latest snapshot, in seconds.",
    SNAPSHOT_TIMESTAMP: "UNIX time at which the crawl behind the latest snapshot started.",
    SIMULATED: "1 when the latest snapshot comes from a simulated devnet, else 0.",
    BUILD_INFO: "Version of the exporter; always 1.",
    VANTAGE_POINTS: "Vantage points with a successful crawl within the vantage window.",
    VANTAGE_NODES: "Node ids in the latest crawl of each vantage point; vantage=combined: seen from any of them.",
    VANTAGE_EXCLUSIVE_NODES: "Node ids that only this vantage point saw.",
    VANTAGE_COVERAGE: "Share of the node ids seen from any vantage point that this one saw.",
    VANTAGE_OVERLAP_NODES: "Node ids seen by every vantage point.",
    VANTAGE_PROVIDER_SHARE: (
        "Share of each provider among a vantage point's node ids (the combined top-K and other); "
        "vantage=combined: among the node ids seen from any."
    ),
    VANTAGE_SNAPSHOT_TIMESTAMP: "UNIX time at which the latest crawl of the vantage point started.",
}

ALL_METRICS: Final[tuple[str, ...]] = tuple(HELP)

OTHER_KEY: Final = "other"

# The layer label: every record, then the layer views of monitor.analysis (LAYER_VIEWS).
ALL_LAYERS: Final = "all"
LAYERS: Final[tuple[str, ...]] = (ALL_LAYERS, "execution", "consensus")
# The family label of HHI / Nakamoto: Indices.family "all_operators" and "hosted_only" of the analysis.
FAMILY_OPERATORS: Final = "operators"
FAMILY_HOSTED: Final = "hosted"
FAMILIES: Final[tuple[str, ...]] = (FAMILY_OPERATORS, FAMILY_HOSTED)
# Keys of the category dimension, always exported: "other" is the residential / other networks.
CATEGORY_KEYS: Final[tuple[str, ...]] = ("hosted", "other", "unknown")

# Label text of the Nakamoto thresholds of monitor.analysis.concentration.NAKAMOTO_THRESHOLDS.
# The one-third threshold keeps its label "0.33" (dashboards and alert rules select it) although it is exactly 1/3 now.
THRESHOLD_LABELS: Final[dict[float, str]] = {0.33: "0.33", 1 / 3: "0.33", 0.5: "0.5"}

# The counters' fixed label sets; the crawl meta counter each one is read from is "packets_<dir>_<type>".
PACKET_DIRECTIONS: Final[dict[str, str]] = {"sent": "sent", "recv": "received"}
PACKET_TYPES: Final[tuple[str, ...]] = ("ping", "pong", "findnode", "neighbors", "enrrequest", "enrresponse")

# error kind -> crawl meta counter it is read from (the discv4 service's own statistics).
PACKET_ERROR_COUNTERS: Final[dict[str, str]] = {
    "timeout_ping": "packets_timeout_ping",
    "timeout_findnode": "packets_timeout_findnode",
    "timeout_enrrequest": "packets_timeout_enrrequest",
    "decode": "packets_err_decode",
    "signature": "packets_err_signature",
    "expired": "packets_err_expired",
    "unsolicited": "packets_err_unsolicited",
    "netrestrict": "packets_err_netrestrict",
    "socket": "packets_err_socket",
}
# Kinds counted by the scheduled job itself rather than read from a snapshot.
# crawl_interrupted: the service stopped (SIGTERM, SIGINT) while a crawl ran; recorded in history too (issue 16).
JOB_ERROR_KINDS: Final[tuple[str, ...]] = ("crawl_failed", "crawl_timeout", "crawl_interrupted")
ERROR_KINDS: Final[tuple[str, ...]] = (*PACKET_ERROR_COUNTERS, *JOB_ERROR_KINDS)
CRAWL_RESULTS: Final[tuple[str, ...]] = ("success", "failure")
