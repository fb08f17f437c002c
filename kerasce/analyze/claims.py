"""The seed articles' claims as data: each names the experiment that tests it, how to group and
which metrics to show, and a verdict function that reads the aggregated table and says
supported, not supported, or depends on (and on what), with the numbers that decided it.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

PROBABILITY_HEADS = ("sigmoid_bce", "softmax_ce", "clipped_softmax_ce", "clipped_sigmoid_bce")


@dataclass(frozen=True)
class Claim:
    key: str
    statement: str
    experiment: str  # MLflow experiment name (the config's `name`)
    config: str
    group_by: tuple
    metrics: tuple
    figures: tuple  # which comparison figures to show
    verdict: Callable[[pd.DataFrame], tuple[str, str]]


def overlap(a: pd.Series, b: pd.Series, metric: str) -> bool:
    """Do the 95% intervals of two aggregated rows overlap? (A single run counts as a point.)"""
    low_a, high_a = _interval(a, metric)
    low_b, high_b = _interval(b, metric)
    return low_a <= high_b and low_b <= high_a


def _interval(row, metric):
    low, high = row[f"{metric}_ci_low"], row[f"{metric}_ci_high"]
    mean = row[f"{metric}_mean"]
    return (mean, mean) if math.isnan(low) else (low, high)


def _rows(table, **where) -> pd.DataFrame:
    selected = table
    for key, value in where.items():
        selected = selected[selected[key].astype(str) == str(value)]
    return selected


TWINS = {"sigmoid_bce": "logit_bce", "softmax_ce": "logits_ce"}  # probability head -> its logit twin


def binary_heads_verdict(table: pd.DataFrame) -> tuple[str, str]:
    metric, reasons, verdicts, float32_identical = "test_loss", [], [], []
    for (precision, scale), group in table.groupby(["precision", "model.logit_scale"]):
        rows = {row["formulation"]: row for _, row in group.iterrows()}
        for head, twin in TWINS.items():
            a, b = rows[head], rows[twin]
            identical = a[f"{metric}_mean"] == b[f"{metric}_mean"]
            same = identical or overlap(a, b, metric)
            verdicts.append(same)
            if precision == "float32":
                float32_identical.append(identical)
            how = "identical" if identical else ("intervals overlap" if same else "differ")
            reasons.append(
                f"{precision}, logit scale {scale}: {head} ({a['loss_path']}) {a[f'{metric}_mean']:.4f} "
                f"vs {twin} {b[f'{metric}_mean']:.4f}, {how}"
            )
    if not all(verdicts):
        return "depends on precision and logit scale", "; ".join(reasons)
    float32_note = (
        "in float32, where Keras recovers the logits, the losses are identical to the last digit"
        if all(float32_identical)
        else "in float32 the intervals overlap"
    )
    return (
        "supported, as far as 3 seeds can tell",
        f"each probability head matches its from-logits twin: {float32_note}; under mixed_float16, where it "
        "clips, no difference is detectable with these seeds. " + "; ".join(reasons),
    )


def imbalance_verdict(table: pd.DataFrame) -> tuple[str, str]:
    metric, reasons, differs = "test_average_precision", [], []
    for precision, group in table.groupby("precision"):
        reference = _rows(group, formulation="log_softmax_nll").iloc[0]
        for _, row in group.iterrows():
            if row["formulation"] == "log_softmax_nll":
                continue
            same = overlap(row, reference, metric)
            reasons.append(
                f"{precision}: {row['formulation']} AP {row[metric + '_mean']:.4f} vs log_softmax_nll "
                f"{reference[metric + '_mean']:.4f} ({'overlap' if same else 'differ'})"
            )
            if not same:
                differs.append(f"{row['formulation']} under {precision}")
    if not differs:
        return (
            "not supported",
            "at this imbalance every wiring reaches the same rare-class AP within "
            "its 95% interval: " + "; ".join(reasons),
        )
    return "depends on the wiring and precision", f"AP differs for {', '.join(differs)}: " + "; ".join(
        reasons
    )


def naive_overflow_verdict(table: pd.DataFrame) -> tuple[str, str]:
    naive = table[table["formulation"] == "naive_softmax_ce"]
    stable = table[table["formulation"] != "naive_softmax_ce"]
    failing = naive[naive["nan_rate"] > 0]
    settings = "; ".join(
        f"logit scale {r['model.logit_scale']}, learning rate {r['train.learning_rate']}: "
        f"NaN in {r['nan_rate']:.0%} of runs"
        for _, r in failing.iterrows()
    )
    if len(failing) and not (stable["nan_rate"] > 0).any():
        return "supported", (
            f"the textbook softmax hit NaN/Inf in {len(failing)} of {len(naive)} settings "
            f"({settings}); the stable wirings never did ({len(stable)} settings)"
        )
    if not len(failing):
        return "not supported", "no NaN/Inf event in any setting of this grid"
    return (
        "not supported",
        f"stable wirings also hit NaN: {stable[stable['nan_rate'] > 0][['formulation']].values}",
    )


def mixed_head_verdict(table: pd.DataFrame) -> tuple[str, str]:
    softmax = table[table["formulation"] == "softmax_ce"]
    paths = {(r["precision"], str(r["model.float32_head"])): r["loss_path"] for _, r in softmax.iterrows()}
    found = "; ".join(f"{p}, float32 head {h}: {path}" for (p, h), path in sorted(paths.items()))
    lost = all(
        paths.get((p, "False")) == "clipped_probabilities" for p in ("mixed_float16", "mixed_bfloat16")
    )
    restored = all(paths.get((p, "True")) == "recovered_logits" for p in ("mixed_float16", "mixed_bfloat16"))
    if lost and restored and paths.get(("float32", "False")) == "recovered_logits":
        return "supported", f"Loss paths measured for softmax_ce: {found}"
    return "not supported", f"Loss paths measured for softmax_ce: {found}"


def backends_verdict(table: pd.DataFrame) -> tuple[str, str]:
    """Supported when every float32 probability head takes the recovered path on TensorFlow and
    the clipped path on JAX; the reason adds what that does to the test loss at each logit scale."""
    float32 = table[(table["precision"] == "float32") & table["formulation"].isin(list(TWINS))]
    rows = {(r["formulation"], r["backend"], r["model.logit_scale"]): r for _, r in float32.iterrows()}
    reasons, split = [], []
    for formulation, backend, scale in sorted(rows):
        if backend != "tensorflow" or (formulation, "jax", scale) not in rows:
            continue
        tf_row, jax_row = rows[(formulation, backend, scale)], rows[(formulation, "jax", scale)]
        tf_path, jax_path = tf_row["loss_path"], jax_row["loss_path"]
        split.append(tf_path == "recovered_logits" and jax_path == "clipped_probabilities")
        reasons.append(
            f"{formulation}, logit scale {scale}: TensorFlow {tf_path} (test loss "
            f"{tf_row['test_loss_mean']:.4f}), JAX {jax_path} (test loss {jax_row['test_loss_mean']:.4f})"
        )
    found = "in float32, " + ("; ".join(reasons) or "no probability head ran on both backends")
    return ("supported" if split and all(split) else "not supported"), found


CLAIMS = (
    Claim(
        "binary_heads",
        "On binary data a single sigmoid unit and two softmax nodes are the same model, and the combined "
        "(from-logits) cross-entropy is the safe way to train either.",
        "binary-heads",
        "experiments/binary_heads.toml",
        ("formulation", "precision", "model.logit_scale"),
        ("test_loss", "test_average_precision", "test_ece"),
        ("loss_curves.png",),
        binary_heads_verdict,
    ),
    Claim(
        "imbalance_pr",
        "Log-softmax with NLL gives better precision-recall than softmax with cross-entropy under class "
        "imbalance, because the probability path loses the rare class in the clipped tail.",
        "imbalance-pr",
        "experiments/imbalance_pr.toml",
        ("formulation", "precision"),
        ("test_average_precision", "test_best_f1", "test_ece", "clip_saturation_rate"),
        ("pr_curves.png",),
        imbalance_verdict,
    ),
    Claim(
        "naive_overflow",
        "The textbook softmax exp(z)/sum(exp(z)) with -log(p) overflows to NaN/Inf at large logits or "
        "learning rates; max-subtracted softmax and log-softmax do not.",
        "naive-overflow",
        "experiments/naive_overflow.toml",
        ("formulation", "model.logit_scale", "train.learning_rate"),
        ("test_loss", "nan_event_count"),
        ("loss_curves.png",),
        naive_overflow_verdict,
    ),
    Claim(
        "mixed_precision_head",
        "Under mixed precision a softmax head silently loses Keras' logit recovery and falls onto clipped "
        "probabilities; keeping the head in float32 restores it.",
        "mixed-precision-head",
        "experiments/mixed_precision_head.toml",
        ("formulation", "precision", "model.float32_head"),
        ("test_loss", "clip_saturation_rate", "test_ece"),
        ("reliability.png",),
        mixed_head_verdict,
    ),
    Claim(
        "backends",
        "The same Keras code takes a different loss path on TensorFlow and on JAX: TensorFlow recovers "
        "the logits of a softmax or sigmoid head in float32, JAX never does.",
        "backends",
        "experiments/backends.toml",
        ("data.dataset", "formulation", "backend", "precision", "model.logit_scale"),
        ("test_loss", "clip_saturation_rate", "test_average_precision", "test_average_precision_macro"),
        ("loss_curves.png",),
        backends_verdict,
    ),
)
