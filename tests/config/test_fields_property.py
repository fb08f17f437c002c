"""Property: any config either loads (and expands) or raises the package's own error type."""

import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerasce.config import DEFAULTS, expand_grid, load_config, parse_config
from kerasce.errors import KerasceError

KNOWN_KEYS = [
    "name",
    "formulation",
    "precision",
    "seed",
    "data",
    "model",
    "train",
    "grid",
    "dataset",
    "epochs",
    "batch_size",
    "learning_rate",
    "hidden_units",
    "logit_scale",
    "label_noise",
    "data.dataset",
    "model.logit_scale",
    "train.epochs",
    "max_samples",
    "class_weights",
    "on_nan",
    "digits",
    "synthetic",
    "csv",
    "softmax_ce",
    "float32",
    "x",
    "",
]
scalars = st.one_of(
    st.booleans(),
    st.integers(-(10**6), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(KNOWN_KEYS),
    st.text(max_size=8),
)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=8))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)
configs = st.dictionaries(keys, values, max_size=6)
grid_values = st.one_of(st.lists(values, min_size=1, max_size=3), values)  # mostly lists, as grids want
# Configs that mostly look right, so the deeper checks are reached too.
near_valid = st.fixed_dictionaries(
    {
        "train": st.dictionaries(st.sampled_from(sorted(DEFAULTS["train"]) + ["x"]), scalars, max_size=3),
        "model": st.dictionaries(st.sampled_from(sorted(DEFAULTS["model"])), values, max_size=2),
        "data": st.dictionaries(
            st.sampled_from(
                [
                    "dataset",
                    "label_noise",
                    "max_samples",
                    "class_weights",
                    "n_classes",
                    "val_fraction",
                    "path",
                    "feature_columns",
                ]
            ),
            values,
            max_size=3,
        ),
        "grid": st.one_of(
            st.dictionaries(keys, grid_values, max_size=3),
            st.lists(st.dictionaries(keys, grid_values, max_size=3), max_size=2),
        ),
    }
)

# A valid base with an arbitrary grid, so grid expansion itself is exercised.
grids_only = st.fixed_dictionaries(
    {
        "grid": st.one_of(
            st.dictionaries(keys, grid_values, max_size=3),
            st.lists(st.dictionaries(keys, grid_values, max_size=3), max_size=2),
        )
    }
)


def loads_or_refuses(raw):
    try:
        config, grid = parse_config(raw)
        specs = expand_grid(config, grid)
    except KerasceError:
        return
    assert specs and all(spec.config["train"]["epochs"] > 0 for spec in specs)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_any_mapping_loads_or_raises_kerasce_error(raw):
    loads_or_refuses(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid)
def test_near_valid_configs_load_or_raise_kerasce_error(raw):
    loads_or_refuses(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids_only)
def test_any_grid_loads_or_raises_kerasce_error(raw):
    loads_or_refuses(raw)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_file_text_loads_or_raises_kerasce_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("toml") / "config.toml"
    path.write_text(text)
    try:
        load_config(path)
    except KerasceError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=3))
def test_any_overrides_load_or_raise_kerasce_error(overrides):
    try:
        expand_grid(*parse_config({}, overrides))
    except KerasceError:
        pass


def test_the_shipped_configs_load():
    for path in sorted((__import__("pathlib").Path(__file__).parents[2] / "experiments").glob("*.toml")):
        config, grid = load_config(path)
        assert expand_grid(config, grid)
        assert tomllib.loads(path.read_text())
