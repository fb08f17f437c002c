"""Every example model through kerasce.api.audit, with the table expected on this process's backend
(`make test` runs this file on TensorFlow and on JAX): the recovery is TensorFlow's, in float32 only."""

import keras
import pytest

import kerasce.api
from kerasce.examples.audit_models import EXAMPLES, save_all

pytestmark = pytest.mark.backend

BACKEND = keras.backend.backend()
R, C, F = "recovered_logits", "clipped_probabilities", "fused_logits"
PROBABILITY_HEAD = {"tensorflow": (R, C, C), "jax": (C, C, C), "torch": (C, C, C)}[BACKEND]
EXPECTED = {  # loss path under float32, mixed_float16, mixed_bfloat16
    "cnn_softmax": PROBABILITY_HEAD,
    "cnn_softmax_mixed_float16": PROBABILITY_HEAD,
    "mlp_sigmoid": PROBABILITY_HEAD,
    "cnn_logits": (F, F, F),
    "cnn_separate_softmax": PROBABILITY_HEAD,
    "cnn_conv_head": PROBABILITY_HEAD,
    "tagger_sigmoid": PROBABILITY_HEAD,
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return save_all(tmp_path_factory.mktemp("examples"))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_model_audit_table(saved, name):
    audit = kerasce.api.audit(saved[name])
    assert [(r.backend, r.precision) for r in audit.rows] == [
        (BACKEND, p) for p in ("float32", "mixed_float16", "mixed_bfloat16")
    ]
    assert tuple(r.loss_path for r in audit.rows) == EXPECTED[name]
    saved_policy = "mixed_float16" if name.endswith("mixed_float16") else "float32"
    assert [r.precision for r in audit.rows if r.as_saved] == [saved_policy]
    assert audit.clipped == (C in EXPECTED[name])
    assert all((r.fix is None) == (r.status == "ok") for r in audit.rows)
    print(f"\n{audit.text()}")  # the table the README and the report show (pytest -s)
