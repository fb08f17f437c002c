"""An audit as text: the head and loss in one line, a table of settings, then one fix per problem."""

import math

from tabulate import tabulate


def _rate(value) -> str:
    if value is None:
        return "-"
    return "nan" if math.isnan(value) else f"{value:.1%}"


def audit_table(audit) -> str:
    """One row per backend and precision policy (data columns only when data was given)."""
    with_data = any(row.clip_saturation_rate is not None for row in audit.rows)
    headers = ["backend", "precision", "loss path", "status"]
    headers += ["clip-saturated", "non-finite"] if with_data else []
    rows = []
    for row in audit.rows:
        precision = f"{row.precision} (as saved)" if row.as_saved else row.precision
        cells = [row.backend, precision, row.loss_path, row.status]
        rows.append(
            cells + ([_rate(row.clip_saturation_rate), _rate(row.nonfinite_rate)] if with_data else [])
        )
    return tabulate(rows, headers, tablefmt="github")


def audit_text(audit) -> str:
    head = audit.head
    lines = [
        f"model: {audit.model}",
        f"head: {head.describe()} (layer {head.dense!r}); loss: {head.loss} (from_logits={head.from_logits})",
        "",
        audit_table(audit),
    ]
    lines += [f"note: {note}" for note in audit.notes]
    fixes = [(row, row.fix) for row in audit.rows if row.fix]
    if fixes:
        lines += ["", "fixes:"]
        lines += [f"- {row.backend} {row.precision} ({row.status}): {fix}" for row, fix in fixes]
    return "\n".join(lines)
