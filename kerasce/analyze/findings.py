"""docs/FINDINGS.md: each seed-article claim, the experiment that tests it, its results with
confidence intervals, key figures, and the verdict its claim computes from those results."""

from pathlib import Path

from kerasce.analyze.claims import CLAIMS, Claim
from kerasce.analyze.comparison import (
    aggregate,
    check_comparable,
    display_table,
    figures_per_dataset,
    finished_cells,
)
from kerasce.analyze.paired import TWIN, display_paired, paired_differences
from kerasce.errors import KerasceError
from kerasce.tracking.reader import StoreReader
from kerasce.tracking.schema import Tag

REPORT_COMMAND = "make report   # runs the five claim experiments, then python -m kerasce.report"
VERSION_TAGS = ("python", "tensorflow", "keras", "mlflow", "numpy", "scikit-learn")


def claim_section(claim: Claim, reader, figure_dir: Path) -> tuple[str, dict]:
    """The Markdown section of one claim and the provenance tags of its runs."""
    runs = finished_cells(reader.runs([claim.experiment]))
    if runs.empty:
        raise KerasceError(
            f"claim {claim.key!r}: experiment {claim.experiment!r} has no finished runs; "
            f"run: python -m kerasce.experiment --config {claim.config}"
        )
    group_by = list(claim.group_by)
    metrics = check_comparable(runs, group_by, list(claim.metrics))
    table, regime_note = with_regime(claim, aggregate(runs, group_by, metrics))
    paired = paired_differences(runs, group_by, metrics, claim.reference)
    verdict, reason = judge(claim, table, paired, regime_note)
    figure_links = []
    for name, png in figures_per_dataset(reader, runs, group_by).items():
        if name.endswith(claim.figures):
            (figure_dir / f"{claim.key}_{name}").write_bytes(png)
            figure_links.append(f"![{claim.key} {name}](findings/{claim.key}_{name})")
    shown = display_table(table, group_by, metrics)
    if claim.regime is not None:
        shown["regime reached"] = table["regime_reached"].map({True: "yes", False: "no"})
    reference = "its from-logits twin" if claim.reference == TWIN else claim.reference
    lines = [
        f"## {claim.statement}",
        "",
        f"**Verdict: {verdict}.** {reason[0].upper() + reason[1:]}.",
        "",
        *([f"Regime the claim needs: {regime_note}.", ""] if claim.regime is not None else []),
        f"Experiment `{claim.experiment}`: `python -m kerasce.experiment --config {claim.config}` "
        f"({len(runs)} finished runs). Each cell: mean ± 95% confidence half-width over seeds (n).",
        "",
        shown.to_markdown(index=False),
        "",
        f"Paired: each wiring minus {reference}, trained on the same seed (same split and initial "
        "weights): mean difference [95% interval] (pairs, Wilcoxon signed-rank p).",
        "",
        display_paired(paired, group_by, metrics).to_markdown(index=False)
        if not paired.empty
        else "(no pairs)",
        "",
        *figure_links,
        "",
    ]
    first = runs.iloc[0]
    provenance = {name: first.get(f"tags.{Tag.VERSION}{name}", "?") for name in VERSION_TAGS}
    provenance["git commit"] = first.get(f"tags.{Tag.GIT_COMMIT}", "?")
    return "\n".join(lines), provenance


def with_regime(claim: Claim, table):
    """The aggregate with a `regime_reached` column (all True for a claim without a regime)."""
    if claim.regime is None:
        return table.assign(regime_reached=True), ""
    reached, note = claim.regime(table)
    return table.assign(regime_reached=reached), note


def judge(claim: Claim, table, paired, regime_note: str) -> tuple[str, str]:
    """The claim's verdict, or "not tested" when none of its runs reached the regime it needs."""
    if not table["regime_reached"].any():
        return "not tested", f"no run reached the regime the claim needs, {regime_note}"
    return claim.verdict(table, paired)


def write_report(tracking_uri: str | None, output: Path = Path("docs") / "FINDINGS.md") -> Path:
    """Write the findings report from the claim experiments' runs in the store."""
    reader = StoreReader(tracking_uri)
    known = set(reader.experiment_names())
    missing = [c for c in CLAIMS if c.experiment not in known]
    if missing:
        raise KerasceError(
            "the report needs these experiments first: "
            + "; ".join(f"python -m kerasce.experiment --config {c.config}" for c in missing)
        )
    figure_dir = output.parent / "findings"
    figure_dir.mkdir(parents=True, exist_ok=True)
    sections, provenance = [], {}
    for claim in CLAIMS:
        section, provenance = claim_section(claim, reader, figure_dir)
        sections.append(section)
    versions = ", ".join(f"{name} {value}" for name, value in provenance.items())
    header = [
        "# Findings",
        "",
        "Each claim from the seed articles, the experiment that tests it, what the runs measured, and a "
        "verdict computed from those measurements (`kerasce/report.py`). Produced by:",
        "",
        f"    {REPORT_COMMAND}",
        "",
        f"Software: {versions}. CPU only.",
        "",
    ]
    output.write_text("\n".join(header + sections))
    return output
