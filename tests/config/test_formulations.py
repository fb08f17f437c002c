import pytest

from kerasce.config.formulations import BINARY, FORMULATIONS, MULTICLASS, check_fits, get_formulation
from kerasce.errors import ConfigError


def test_each_formulation_is_registered_under_its_name_for_its_task():
    assert FORMULATIONS and all(name == f.name for name, f in FORMULATIONS.items())
    assert {f.task for f in FORMULATIONS.values()} <= {BINARY, MULTICLASS}


def test_unknown_name_lists_every_valid_name():
    with pytest.raises(ConfigError) as error:
        get_formulation("softmax")
    for name in FORMULATIONS:
        assert name in str(error.value)
    assert "'softmax'" in str(error.value)


@pytest.mark.parametrize("name", sorted(FORMULATIONS))
def test_from_logits_only_where_the_head_outputs_logits(name):
    formulation = get_formulation(name)
    assert formulation.from_logits == (formulation.output == "logits")
    assert formulation.description


def test_head_units_follow_the_task():
    assert get_formulation("softmax_ce").head_units(2) == 2
    assert get_formulation("softmax_ce").head_units(10) == 10
    assert get_formulation("sigmoid_bce").head_units(2) == 1


def test_single_unit_head_refused_on_ten_classes_with_the_fitting_choices():
    with pytest.raises(ConfigError, match="10 classes.*logits_ce"):
        check_fits(get_formulation("logit_bce"), 10)
    check_fits(get_formulation("logit_bce"), 2)
    check_fits(get_formulation("logits_ce"), 2)


def test_facts_are_flat_loggable_values():
    facts = get_formulation("logits_ce").facts(10)
    assert facts["head_units"] == 10 and facts["from_logits"] is True
    assert facts["loss"] == "sparse_categorical_crossentropy"
    assert all(isinstance(v, (str, int, bool, type(None))) for v in facts.values())
    assert {f.task for f in FORMULATIONS.values()} == {MULTICLASS, BINARY}
