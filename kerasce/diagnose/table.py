"""An audit as text: per output, its head and loss in one line and a table of settings; then the
outputs left out, the notes, and one fix per problem."""

import math

from tabulate import tabulate

from kerasce.diagnose.fixes import FIX_COMMAND


def _rate(value) -> str:
    if value is None:
        return "-"
    return "nan" if math.isnan(value) else f"{value:.1%}"


def audit_table(rows) -> str:
    """One row per backend and precision policy (data columns only when data was given)."""
    with_data = any(row.clip_saturation_rate is not None for row in rows)
    headers = ["backend", "precision", "loss path", "status"]
    headers += ["clip-saturated", "non-finite"] if with_data else []
    cells = []
    for row in rows:
        precision = f"{row.precision} (as saved)" if row.as_saved else row.precision
        line = [row.backend, precision, row.loss_path, row.status]
        cells.append(
            line + ([_rate(row.clip_saturation_rate), _rate(row.nonfinite_rate)] if with_data else [])
        )
    return tabulate(cells, headers, tablefmt="github")


def head_line(head, several: bool) -> str:
    where = f"output {head.output!r}: " if several else ""
    return (
        f"{where}head: {head.describe()} (layer {head.logits_layer!r}); loss: {head.loss.describe()} "
        f"(from_logits={head.from_logits}); labels: {head.label_format or 'unknown'}"
    )


def audit_text(audit) -> str:
    several = len(audit.heads) > 1 or bool(audit.skipped)  # name the output whenever there are several
    lines = [f"model: {audit.model}"]
    for head in audit.heads:
        lines += ["", head_line(head, several), "", audit_table(audit.rows_of(head.output))]
    if audit.notes:
        lines.append("")
        lines += [f"note: {note}" for note in audit.notes]
    fixes = [row for row in audit.rows if row.fix]
    if fixes:
        lines += ["", "fixes:"]
        for row in fixes:
            where = f"{row.output} " if several else ""
            lines.append(f"- {where}{row.backend} {row.precision} ({row.status}): {row.fix}")
        lines.append(f"(to write the repaired model: {FIX_COMMAND})")
    return "\n".join(lines)


def repair_text(repair, out) -> str:
    """What --fix wrote and the checks it passed (or that nothing needed repairing)."""
    if repair is None:
        return (
            "--fix: nothing to repair (every audited output already gives its loss logits); "
            f"{out} not written"
        )
    from kerasce.diagnose.repair import probabilities_path

    lines = ["repair:"] + [f"- {change}" for change in repair.changes]
    activations = ", ".join(f"{name}: {activation}" for name, activation in repair.activations.items())
    lines += [
        f"wrote {out}: the repaired model to train; its predict gives logits ({activations} at inference)",
        f"wrote {probabilities_path(out)}: the same layers with the activation as a final layer; its "
        "predict gives probabilities (after training, rebuild it: "
        "kerasce.diagnose.repair.with_probabilities(model, activations), or docs/audit.md)",
    ]
    for name, difference in repair.max_probability_difference.items():
        lines.append(
            f"check: {name}: max |p_repaired - p_original| = {difference:.3g} on {repair.check_inputs}"
        )
    paths = sorted({path for *_, path in repair.reaudit})
    settings = ", ".join(f"{backend} {precision}" for _, backend, precision, _ in repair.reaudit)
    lines.append(f"check: re-audit of the written model: {', '.join(paths)} on {settings}")
    return "\n".join(lines)
