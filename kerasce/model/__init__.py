"""The model stage: formulations (plain data), their losses, the models built from them, and the
reference numerics, and the loss path measured by a probe. `formulations` and `numerics`
import no Keras."""
