"""The formulation registry: each name fixes how the head and the loss are wired, as plain data.

Models read `activation`, `cut_logit_link` and `head_units`; losses read `loss` and
`from_logits`; tracking logs `facts()`. Nothing else in the package branches on a name.
"""

from dataclasses import asdict, dataclass

from kerasce.errors import ConfigError, choices_message

MULTICLASS = "multiclass"  # C output units; fits any task with C >= 2 (two-node heads on binary data)
BINARY = "binary"  # one output unit; fits two-class tasks only


@dataclass(frozen=True)
class Formulation:
    name: str
    task: str  # MULTICLASS or BINARY
    activation: str | None  # applied inside the head Dense: softmax, sigmoid, log_softmax, naive_softmax
    cut_logit_link: bool  # an op between activation and loss, so Keras cannot recover logits
    output: str  # what the model outputs: probabilities, logits, log_probabilities
    # sparse_categorical_crossentropy, binary_crossentropy, negative_log_likelihood, naive_crossentropy
    loss: str
    from_logits: bool
    description: str

    def head_units(self, n_classes: int) -> int:
        return 1 if self.task == BINARY else n_classes

    def facts(self, n_classes: int) -> dict:
        """The wiring as flat values worth logging beside a run."""
        facts = {k: v for k, v in asdict(self).items() if k != "description"}
        facts["head_units"] = self.head_units(n_classes)
        return facts


_ALL = [
    Formulation(
        name="softmax_ce",
        task=MULTICLASS,
        activation="softmax",
        cut_logit_link=False,
        output="probabilities",
        loss="sparse_categorical_crossentropy",
        from_logits=False,
        description="Dense(C, softmax) + SparseCategoricalCrossentropy(): what most tutorials write",
    ),
    Formulation(
        name="logits_ce",
        task=MULTICLASS,
        activation=None,
        cut_logit_link=False,
        output="logits",
        loss="sparse_categorical_crossentropy",
        from_logits=True,
        description="Dense(C) + SparseCategoricalCrossentropy(from_logits=True): the fused, stable kernel",
    ),
    Formulation(
        name="log_softmax_nll",
        task=MULTICLASS,
        activation="log_softmax",
        cut_logit_link=False,
        output="log_probabilities",
        loss="negative_log_likelihood",
        from_logits=False,
        description="Dense(C) -> log_softmax + negative log-likelihood (PyTorch's LogSoftmax + NLLLoss)",
    ),
    Formulation(
        name="clipped_softmax_ce",
        task=MULTICLASS,
        activation="softmax",
        cut_logit_link=True,
        output="probabilities",
        loss="sparse_categorical_crossentropy",
        from_logits=False,
        description="softmax with its link to the logits cut: Keras must clip probabilities to [eps, 1-eps]",
    ),
    Formulation(
        name="naive_softmax_ce",
        task=MULTICLASS,
        activation="naive_softmax",
        cut_logit_link=False,
        output="probabilities",
        loss="naive_crossentropy",
        from_logits=False,
        description="textbook exp(z)/sum(exp(z)) and -log(p), unclipped: overflows for logits above ~88.7",
    ),
    Formulation(
        name="sigmoid_bce",
        task=BINARY,
        activation="sigmoid",
        cut_logit_link=False,
        output="probabilities",
        loss="binary_crossentropy",
        from_logits=False,
        description="Dense(1, sigmoid) + BinaryCrossentropy()",
    ),
    Formulation(
        name="logit_bce",
        task=BINARY,
        activation=None,
        cut_logit_link=False,
        output="logits",
        loss="binary_crossentropy",
        from_logits=True,
        description="Dense(1) + BinaryCrossentropy(from_logits=True): the fused, stable kernel",
    ),
    Formulation(
        name="clipped_sigmoid_bce",
        task=BINARY,
        activation="sigmoid",
        cut_logit_link=True,
        output="probabilities",
        loss="binary_crossentropy",
        from_logits=False,
        description="sigmoid with its link to the logit cut: Keras must clip probabilities",
    ),
]
FORMULATIONS: dict[str, Formulation] = {f.name: f for f in _ALL}


def logit_twin(name: str) -> str:
    """The from-logits wiring of the same task: what every other wiring is compared against."""
    return "logit_bce" if FORMULATIONS[name].task == BINARY else "logits_ce"


def get_formulation(name: str) -> Formulation:
    """The registered formulation called `name`; an unknown name lists the valid ones."""
    if name not in FORMULATIONS:
        raise ConfigError(choices_message("formulation", name, FORMULATIONS))
    return FORMULATIONS[name]


def check_fits(formulation: Formulation, n_classes: int) -> None:
    """Refuse a single-unit head on a task with more than two classes."""
    if formulation.task == BINARY and n_classes != 2:
        fitting = [f.name for f in _ALL if f.task == MULTICLASS]
        raise ConfigError(
            f"formulation: {formulation.name!r} has a single-unit binary head but the data has "
            f"{n_classes} classes; for {n_classes} classes choose one of: {', '.join(fitting)}"
        )
