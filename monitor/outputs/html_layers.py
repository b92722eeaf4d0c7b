"""HTML report sections for the layers and the hosted scope: the execution and consensus layers side by side with all
records, and the hosted vs residential split with the provider shares among hosted nodes.

A layer view counts only the records of that layer (``NodeRecord.layer``); its denominators are the same scope/dedup
pairs as all records' ("execution:reachable/node"). The hosted scope counts the nodes in data centres (attribution
category cloud or hosting); "AWS share of hosted nodes" is the provider share under it.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.analysis.concentration import Dimension, DimensionAnalysis, Indices
from monitor.analysis.report import Analysis, PopulationAnalysis
from monitor.outputs.html_parts import Raw, ci_pct, e, num, pct, section, table
from monitor.outputs.html_shares import share_figure

__all__ = ["layers_section", "hosted_section", "layer_columns", "tail_name"]

_TOP = 5  # providers per layer in the side-by-side table


def tail_name(name: str) -> str:
    """ "reachable/node" for "execution:reachable/node"."""
    return name.split(":")[-1]


def layer_columns(analysis: Analysis) -> list[tuple[str, int, tuple[PopulationAnalysis, ...]]]:
    """(layer, node records, populations): execution, consensus, then all records."""
    return [
        *((v.layer, v.nodes, v.populations) for v in analysis.layers),
        ("all", analysis.nodes_total, analysis.populations),
    ]


def _find(pops: Sequence[PopulationAnalysis], name: str) -> PopulationAnalysis | None:
    return next((p for p in pops if tail_name(p.denominator.name) == name), None)


def _share(dim: DimensionAnalysis | None, key: str) -> Raw:
    if dim is None or dim.denominator.n == 0:
        return Raw("—")
    s = dim.share_of(key)
    return Raw(f"{e(pct(s.share))}<br><small>{e(ci_pct(s.ci))}</small>")


def _dim(p: PopulationAnalysis | None, name: Dimension) -> DimensionAnalysis | None:
    return p.dimension(name) if p is not None and p.has_dimension(name) else None


def _index_text(ix: Indices | None, which: str) -> str:
    if ix is None:
        return "—"
    if which == "hhi":
        return num(ix.hhi)
    figures = [f for f in ix.nakamoto if abs(f.threshold - float(which)) < 0.01]
    return "—" if not figures or figures[0].value is None else str(figures[0].value)


def _layer_rows(cols: list[tuple[str, int, PopulationAnalysis | None]]) -> list[list[object]]:
    providers = [_dim(p, "provider") for _, _, p in cols]
    rows: list[list[object]] = [
        ["node records of the layer", *(f"{nodes:,}" for _, nodes, _ in cols)],
        ["n (units of the denominator)", *("—" if p is None else f"{p.denominator.n:,}" for _, _, p in cols)],
        ["of which unattributed", *("—" if p is None else f"{p.unattributed:,}" for _, _, p in cols)],
        [
            f"top {_TOP} providers",
            *(
                Raw("<br>".join(e(f"{s.key} {pct(s.share)}") for s in d.shares[:_TOP]) or "—") if d else "—"
                for d in providers
            ),
        ],
        ["hosted (cloud + hosting)", *(_share(_dim(p, "category"), "hosted") for _, _, p in cols)],
        ["residential / other networks", *(_share(_dim(p, "category"), "other") for _, _, p in cols)],
        ["AWS", *(_share(d, "aws") for d in providers)],
    ]
    for family, label in (("operators", "all operators"), ("hosted", "hosted providers only")):
        indices = [None if d is None else (d.indices if family == "operators" else d.hosted_indices) for d in providers]
        rows.append([f"HHI, {label}", *(_index_text(ix, "hhi") for ix in indices)])
        rows.append([f"Nakamoto >1/3, {label}", *(_index_text(ix, "0.333") for ix in indices)])
        rows.append([f"Nakamoto >1/2, {label}", *(_index_text(ix, "0.5") for ix in indices)])
    return rows


def layers_section(analysis: Analysis, primary: PopulationAnalysis | None) -> Raw:
    if primary is None:
        return section("layers", "Layers side by side", Raw('<p class="note">No population to show.</p>'))
    name = tail_name(primary.denominator.name)
    cols = [(layer, nodes, _find(pops, name)) for layer, nodes, pops in layer_columns(analysis)]
    headers: list[object] = ["figure"]
    headers += [Raw(f"{e(layer)}<br><small>{e(name)}</small>") for layer, _, _ in cols]
    note = Raw(
        '<p class="note">Execution-layer nodes (an <code>eth</code> entry or an RLPx Status: discv4, geth and the '
        "like) and consensus-layer nodes (an <code>eth2</code> entry: discv5, beacon nodes) counted separately, and "
        f"all records together, under one denominator ({e(primary.denominator.description)}). Shares with their 95 % "
        "interval (cluster-robust for per-node counts). Index families: over all operators (each ISP network its own "
        "operator) and over hosted providers only (cloud + hosting).</p>"
    )
    caption = f"The layers side by side — {name}; n per column in the second row"
    return section(
        "layers",
        "Layers side by side",
        note,
        table(caption, headers, _layer_rows(cols), numeric=range(1, len(headers)), css="matrix"),
    )


def _split_rows(analysis: Analysis) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for p in analysis.populations:
        if p.denominator.name.startswith("hosted/") or not p.has_dimension("category"):
            continue
        dim = p.dimension("category")
        rows.append(
            (p.denominator.name, f"{p.denominator.n:,}", *(_share(dim, k) for k in ("hosted", "other", "unknown")))
        )
    return rows


def _aws_of_hosted_rows(analysis: Analysis) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for dedup in ("node", "ip", "prefix"):
        cells: list[object] = [f"hosted/{dedup}"]
        for _, _, pops in layer_columns(analysis):
            p = _find(pops, f"hosted/{dedup}")
            n = "—" if p is None else f"n = {p.denominator.n:,}"
            cells.append(Raw(f"{_share(_dim(p, 'provider'), 'aws')}<br><small>{e(n)}</small>"))
        rows.append(tuple(cells))
    return rows


def hosted_section(analysis: Analysis, primary: PopulationAnalysis | None, top: int) -> Raw:
    parts: list[object] = [
        Raw(
            '<p class="note">Hosted = attribution category <code>cloud</code> (hyperscalers with published ranges) or '
            "<code>hosting</code> (data-centre, VPS and dedicated providers); residential / other = ISPs (home, "
            "mobile and business access), education and government networks; unknown = no category known. Shares of "
            "every unit of the denominator, with Wilson 95 % intervals.</p>"
        ),
    ]
    category = _dim(primary, "category")
    if category is not None:
        parts.append(share_figure(category, top, "Hosted vs residential / other", "chart-hosted-split"))
    parts.append(
        table(
            "Hosted vs residential / other under every denominator (all records; share and 95 % interval)",
            ("denominator", "n", "hosted", "residential / other", "unknown"),
            _split_rows(analysis),
            numeric=(1, 2, 3, 4),
            empty="no denominators",
        )
    )
    hosted = _find(analysis.populations, "hosted/node")
    if hosted is not None and hosted.has_dimension("provider") and hosted.denominator.n > 0:
        parts.append(share_figure(hosted.dimension("provider"), top, "Providers among hosted nodes", "chart-hosted"))
    headers: list[object] = ["denominator", *(layer for layer, _, _ in layer_columns(analysis))]
    parts.append(
        table(
            "AWS share of hosted nodes per layer (hosted scope: cloud + hosting units only; n below each share)",
            headers,
            _aws_of_hosted_rows(analysis),
            numeric=range(1, len(headers)),
            css="matrix",
        )
    )
    return section("hosted", "Hosted vs residential", *parts)
