import pytest

from kerasce.config import expand_grid, load_config, parse_config, parse_override
from kerasce.errors import ConfigError


def test_defaults_fill_what_the_file_leaves_out():
    config, grid = parse_config({"name": "x"})
    assert config["train"]["epochs"] == 20 and config["formulation"] == "logits_ce"
    assert grid == []
    assert len(expand_grid(config, grid)) == 1


def test_grid_is_the_cartesian_product_with_readable_names():
    config, grid = parse_config(
        {
            "grid": {
                "formulation": ["softmax_ce", "logits_ce"],
                "precision": ["float32", "mixed_float16"],
                "seed": [0, 1, 2],
                "model.logit_scale": [1.0],
            }
        }
    )
    specs = expand_grid(config, grid)
    assert len(specs) == 12 and len({s.identity("same data") for s in specs}) == 12
    assert specs[0].run_name == "digits / softmax_ce / float32 / model.logit_scale=1.0 / seed 0"
    assert specs[-1].config["precision"] == "mixed_float16" and specs[-1].config["seed"] == 2


def test_several_grid_tables_give_the_union():
    config, grid = parse_config(
        {
            "grid": [
                {"data.dataset": ["digits"], "formulation": ["softmax_ce", "logits_ce"]},
                {"data.dataset": ["breast_cancer"], "formulation": ["sigmoid_bce"]},
            ]
        }
    )
    names = [s.run_name for s in expand_grid(config, grid)]
    assert names == [
        "digits / softmax_ce / float32 / seed 0",
        "digits / logits_ce / float32 / seed 0",
        "breast_cancer / sigmoid_bce / float32 / seed 0",
    ]


def test_specs_are_hashable_and_identified_by_their_config():
    config, grid = parse_config({"grid": {"seed": [0, 0, 1]}})
    specs = expand_grid(config, grid)
    assert len(specs) == 2 and len(set(specs)) == 2


def test_overrides_are_typed_and_strict():
    config, grid = parse_config({}, ["train.epochs=3", "data.dataset=breast_cancer", "grid.seed=[4, 5]"])
    assert config["train"]["epochs"] == 3 and config["data"]["dataset"] == "breast_cancer"
    assert grid == [{"seed": [4, 5]}]
    assert parse_override("model.hidden_units=[8, 4]") == ("model.hidden_units", [8, 4])
    with pytest.raises(ConfigError, match="train.epoch.*epochs"):
        parse_config({}, ["train.epoch=3"])
    with pytest.raises(ConfigError, match="train.epochs: expected an integer"):
        parse_config({}, ["train.epochs=many"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_config({}, ["train.epochs"])


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"trian": {}}, "trian.*choose one of.*train"),
        ({"train": {"epochs": 0}}, "train.epochs: 0 must be greater than 0"),
        ({"train": {"epochs": 2.5}}, "train.epochs: expected an integer"),
        ({"train": {"learning_rate": -0.1}}, "train.learning_rate: -0.1 must be greater than 0"),
        ({"train": {"on_nan": "ignore"}}, "train.on_nan.*stop, continue"),
        ({"train": "fast"}, "train: expected a table"),
        ({"formulation": "softmax"}, "formulation: 'softmax'.*logits_ce"),
        ({"precision": "float16"}, "precision.*mixed_float16"),
        ({"data": {"dataset": "imagenet"}}, "data.dataset: 'imagenet'.*digits"),
        ({"data": {"dataset": "csv", "pth": "x.csv"}}, "data.pth.*path"),
        ({"data": {"label_noise": -0.1}}, "data.label_noise: -0.1"),
        ({"data": {"val_fraction": 0.5, "test_fraction": 0.5}}, "sum below 1"),
        ({"model": {"hidden_units": [64, 0]}}, "model.hidden_units"),
        (
            {"model": {"body": "mymodule.small_cnn"}},
            "model.body: 'mymodule.small_cnn' must name a function as",
        ),
        ({"model": {"bdy": "m:f"}}, "did you mean 'body'"),
        ({"grid": {"seed": []}}, "grid.seed: expected a non-empty list"),
        ({"grid": {"seed": 3}}, "grid.seed: expected a non-empty list"),
        ({"grid": {"train.epochs": [1, -1]}}, "train.epochs: -1 must be greater than 0"),
        ({"grid": {"model.depth": [1]}}, "model.depth.*hidden_units"),
        ({"seed": 4294967296}, r"seed: 4294967296 must be 0 or greater and below 2\*\*32"),
        ({"grid": {"seed": [0, -1]}}, "seed: -1 must be 0 or greater"),
    ],
)
def test_each_bad_value_names_the_field(raw, message):
    with pytest.raises(ConfigError, match=message):
        config, grid = parse_config(raw)
        expand_grid(config, grid)


def test_files_missing_or_malformed(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nepochs = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_a_cells_identity_covers_its_config_and_its_data():
    spec = expand_grid(*parse_config({}))[0]
    assert spec.identity("fingerprint-a") == spec.identity("fingerprint-a")
    assert spec.identity("fingerprint-a") != spec.identity("fingerprint-b")
    other = expand_grid(*parse_config({}, ["train.epochs=3"]))[0]
    assert other.identity("fingerprint-a") != spec.identity("fingerprint-a")


@pytest.mark.parametrize(
    "override, message",
    [
        ("data.dataset=mnst", "'mnst' is not valid; did you mean 'mnist'\\? Or choose one of: digits"),
        ("formulation=softmax_cee", "did you mean 'softmax_ce'"),
        ("train.optimiser=sgd", "'optimiser' is not valid; did you mean 'optimizer'"),
        ("precision=float64", "'float64' is not valid; did you mean 'float32'"),
        ("formulation=xyz", "'xyz' is not valid; choose one of: softmax_ce"),
    ],
)
def test_a_mistyped_name_gets_the_closest_valid_one(override, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({}, [override])


def test_the_first_seed_of_each_cell_group_draws_its_intuition_figures():
    config, grid = parse_config({"grid": {"seed": [2, 0, 1], "precision": ["float32", "mixed_float16"]}})
    drawing = [
        (spec.config["seed"], spec.config["precision"])
        for spec in expand_grid(config, grid)
        if spec.draws_intuition
    ]
    assert sorted(drawing) == [(0, "float32"), (0, "mixed_float16")]
