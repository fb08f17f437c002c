"""`[model] body`: the user's function resolved, checked and built under the run's precision."""

import keras
import pytest

from kerasce.config.formulations import get_formulation
from kerasce.model.body import BodyError, check_body
from kerasce.model.models import build_model

HERE = "tests.user_bodies"


def test_a_body_that_cannot_be_imported_or_found_is_named():
    with pytest.raises(BodyError, match="cannot import 'no_such_package.module'"):
        check_body("no_such_package.module:body", (8, 8, 1))
    with pytest.raises(BodyError, match="has no function 'missing'"):
        check_body(f"{HERE}:missing", (8, 8, 1))


def test_a_body_that_raises_is_one_line_in_its_own_words():
    with pytest.raises(BodyError, match=r"user_bodies:raises\(8, 8, 1\) raised ValueError: no body for"):
        check_body(f"{HERE}:raises", (8, 8, 1))


def test_a_body_that_returns_no_layers_or_no_features_is_refused():
    with pytest.raises(BodyError, match="returned str; it must return a Keras layer"):
        check_body(f"{HERE}:returns_a_string", (8, 8, 1))
    with pytest.raises(BodyError, match=r"ends in shape \(None, 8, 8, 2\).*Flatten"):
        check_body(f"{HERE}:ends_in_images", (8, 8, 1))


def test_kerasce_adds_the_head_and_the_precision_to_the_body():
    model = build_model(
        get_formulation("softmax_ce"),
        (8, 8, 1),
        10,
        precision="mixed_float16",
        body=f"{HERE}:sequential_body",
    )
    assert model.input_shape == (None, 8, 8, 1) and model.get_layer("head").units == 10
    policies = {
        layer.dtype_policy.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)
    }
    assert policies == {"mixed_float16"}
    assert keras.config.dtype_policy().name == "float32"  # restored after building the body
