"""What each claim's runs say: a regime check (did the runs reach the conditions the claim is
about?) and a verdict, both read off the aggregated table and the paired table (each wiring minus
its reference on the same seed). Verdicts return (verdict, reason with the numbers that decided).
"""

import math

import pandas as pd

from kerasce.analyze.paired import difference_verdict, format_difference

TWINS = {"sigmoid_bce": "logit_bce", "softmax_ce": "logits_ce"}  # probability head -> its logit twin
CLIPPED = "clipped_probabilities"
SATURATION_FLOOR = 0.01  # at least 1% of training samples in the dead zone in some epoch
FLOAT32_EXP_LIMIT = math.log(3.4028235e38)  # 88.72: exp of a larger logit overflows float32


def _rows(table: pd.DataFrame, **where) -> pd.DataFrame:
    selected = table
    for key, value in where.items():
        selected = selected[selected[key].astype(str) == str(value)]
    return selected


def _settings(table: pd.DataFrame, keys: list[str]):
    """(values, rows) per setting: the group keys other than the formulation."""
    yield from table.groupby(keys, sort=True) if keys else [((), table)]


# --- regimes: a boolean per aggregated row (is its setting in the claim's regime?) and a sentence


def saturation_regime(table: pd.DataFrame) -> tuple[pd.Series, str]:
    """The clipped tail is reached in a setting when its clipped-path runs put at least 1% of the
    training samples in the dead zone in some epoch."""
    keys = [k for k in ("precision", "model.logit_scale") if k in table]
    reached = pd.Series(False, index=table.index)
    for _, rows in _settings(table, keys):
        clipped = rows[rows["loss_path"] == CLIPPED]
        if len(clipped) and (clipped["peak_clip_saturation_rate_mean"] >= SATURATION_FLOOR).any():
            reached[rows.index] = True
    return reached, (
        f"samples in the clipped dead zone: clipped-path runs with at least {SATURATION_FLOOR:.0%} of the "
        "training samples below the clip (peak_clip_saturation_rate)"
    )


def overflow_regime(table: pd.DataFrame) -> tuple[pd.Series, str]:
    """A setting tests the overflow claim when the stable wirings' logits pass float32's exp range
    there too: staying finite then means something."""
    keys = [k for k in ("model.logit_scale", "train.learning_rate") if k in table]
    reached = pd.Series(False, index=table.index)
    for _, rows in _settings(table, keys):
        stable = rows[rows["formulation"] != "naive_softmax_ce"]
        if (stable["peak_abs_logit_mean"] > FLOAT32_EXP_LIMIT).any():
            reached[rows.index] = True
    return reached, f"logits past float32's exp range (peak_abs_logit > {FLOAT32_EXP_LIMIT:.2f})"


# --- verdicts


def _paired_row(paired: pd.DataFrame, **where) -> pd.Series | None:
    rows = _rows(paired, **where) if not paired.empty else paired
    return rows.iloc[0] if len(rows) else None


def binary_heads_verdict(table: pd.DataFrame, paired: pd.DataFrame) -> tuple[str, str]:
    """Supported when no probability head trains better than its from-logits twin on the same
    seeds; where one trains worse (the clipped path), that is the claim's "safe" part, named."""
    metric, reasons, worse, better = "test_loss", [], [], []
    float32 = []
    for _, row in paired[paired["formulation"].isin(list(TWINS))].iterrows():
        outcome = difference_verdict(row, metric)
        setting = f"{row['formulation']} under {row['precision']} at logit scale {row['model.logit_scale']}"
        if outcome == "differs":
            (worse if row[f"{metric}_diff_mean"] > 0 else better).append(setting)
        if row["precision"] == "float32":
            float32.append(outcome)
        path = _rows(table, **{k: row[k] for k in ("formulation", "precision", "model.logit_scale")})
        reasons.append(
            f"{row['precision']}, logit scale {row['model.logit_scale']}: {row['formulation']} "
            f"({path['loss_path'].iloc[0]}) minus {row['reference']}: "
            f"Δ test loss {format_difference(row, metric)}"
        )
    if not reasons:
        return "not tested", "no probability head ran beside its from-logits twin"
    if better:
        return f"not supported: the probability head trains better for {', '.join(better)}", "; ".join(
            reasons
        )
    float32_note = (
        "in float32, where Keras recovers the logits, every pair is identical to the last digit"
        if float32 and all(o == "identical" for o in float32)
        else "in float32 no paired difference is detectable"
    )
    clipped_note = (
        f"where Keras clips, the probability head trains worse than its twin ({', '.join(worse)})"
        if worse
        else "under mixed_float16, where Keras clips, no paired difference is detectable"
    )
    return "supported", f"no probability head trains better than its from-logits twin: {float32_note}; " + (
        f"{clipped_note}. " + "; ".join(reasons)
    )


def imbalance_verdict(table: pd.DataFrame, paired: pd.DataFrame) -> tuple[str, str]:
    """Against log_softmax_nll, in the settings whose clipped-path runs reached the dead zone."""
    metric, reasons, worse, same = "test_average_precision", [], [], []
    reached = table[table["regime_reached"]]
    for _, row in paired.iterrows():
        setting = {k: row[k] for k in ("formulation", "precision", "model.logit_scale") if k in row}
        cell = _rows(reached, **setting)
        if cell.empty:
            continue
        path, saturation = cell["loss_path"].iloc[0], cell["peak_clip_saturation_rate_mean"].iloc[0]
        outcome = difference_verdict(row, metric)
        reasons.append(
            f"{row['precision']}, logit scale {row['model.logit_scale']}: {row['formulation']} ({path}, peak "
            f"saturation {saturation:.1%}) minus log_softmax_nll: Δ AP {format_difference(row, metric)}"
        )
        if path == CLIPPED:
            (worse if outcome == "differs" and row[f"{metric}_diff_mean"] < 0 else same).append(
                f"{row['formulation']} under {row['precision']}"
            )
    if not reasons:
        return "not tested", "no setting reached the clipped dead zone"
    if worse:
        return (
            f"supported where the probability path is clipped ({', '.join(worse)})",
            "; ".join(reasons),
        )
    return (
        "not supported",
        "in the clipped regime no clipped-path wiring has a worse rare-class AP than log_softmax_nll "
        "on the same seeds: " + "; ".join(reasons),
    )


def naive_overflow_verdict(table: pd.DataFrame, paired: pd.DataFrame) -> tuple[str, str]:
    tested = table[table["regime_reached"]]
    naive = tested[tested["formulation"] == "naive_softmax_ce"]
    stable = tested[tested["formulation"] != "naive_softmax_ce"]
    failing = naive[naive["nan_rate"] > 0]
    settings = "; ".join(
        f"logit scale {r['model.logit_scale']}, learning rate {r['train.learning_rate']}: "
        f"NaN in {r['nan_rate']:.0%} of runs"
        for _, r in failing.iterrows()
    )
    peak = stable["peak_abs_logit_mean"].max()
    if len(failing) and not (stable["nan_rate"] > 0).any():
        return "supported", (
            f"in the {len(naive)} settings where the stable wirings' logits passed float32's exp range "
            f"(up to {peak:.0f}), the textbook softmax hit NaN/Inf in {len(failing)} ({settings}); the "
            f"stable wirings never did ({len(stable)} groups of runs)"
        )
    if not len(failing):
        return "not supported", "no NaN/Inf event in any setting of the regime"
    nan_stable = ", ".join(sorted(stable[stable["nan_rate"] > 0]["formulation"].unique()))
    return "not supported", f"stable wirings also hit NaN: {nan_stable}"


def mixed_head_verdict(table: pd.DataFrame, paired: pd.DataFrame) -> tuple[str, str]:
    softmax = table[table["formulation"] == "softmax_ce"]
    paths = {(r["precision"], str(r["model.float32_head"])): r["loss_path"] for _, r in softmax.iterrows()}
    found = "; ".join(f"{p}, float32 head {h}: {path}" for (p, h), path in sorted(paths.items()))
    lost = all(paths.get((p, "False")) == CLIPPED for p in ("mixed_float16", "mixed_bfloat16"))
    restored = all(paths.get((p, "True")) == "recovered_logits" for p in ("mixed_float16", "mixed_bfloat16"))
    effects = "; ".join(
        f"{r['precision']}, float32 head {r['model.float32_head']}: Δ test loss against logits_ce "
        f"{format_difference(r, 'test_loss')}"
        for _, r in paired.iterrows()
    )
    verdict = (
        "supported"
        if lost and restored and paths.get(("float32", "False")) == "recovered_logits"
        else ("not supported")
    )
    return verdict, f"Loss paths measured for softmax_ce: {found}. What it does to training: {effects}"


def backends_verdict(table: pd.DataFrame, paired: pd.DataFrame) -> tuple[str, str]:
    """Supported when every float32 probability head takes the recovered path on TensorFlow and
    the clipped path on JAX; the reason adds its paired effect on the test loss on each backend."""
    float32 = table[(table["precision"] == "float32") & table["formulation"].isin(list(TWINS))]
    rows = {(r["formulation"], r["backend"], r["model.logit_scale"]): r for _, r in float32.iterrows()}
    reasons, split = [], []
    for formulation, backend, scale in sorted(rows):
        if backend != "tensorflow" or (formulation, "jax", scale) not in rows:
            continue
        tf_path, jax_path = (
            rows[(formulation, backend, scale)]["loss_path"],
            rows[(formulation, "jax", scale)]["loss_path"],
        )
        split.append(tf_path == "recovered_logits" and jax_path == CLIPPED)
        effect = {
            b: _paired_row(
                paired,
                formulation=formulation,
                backend=b,
                precision="float32",
                **{"model.logit_scale": scale},
            )
            for b in ("tensorflow", "jax")
        }
        shown = {b: format_difference(r, "test_loss") if r is not None else "-" for b, r in effect.items()}
        reasons.append(
            f"{formulation}, logit scale {scale}: TensorFlow {tf_path} (Δ test loss against its twin "
            f"{shown['tensorflow']}), JAX {jax_path} (Δ {shown['jax']})"
        )
    found = "in float32, " + ("; ".join(reasons) or "no probability head ran on both backends")
    return ("supported" if split and all(split) else "not supported"), found
