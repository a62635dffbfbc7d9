"""The 12-filter conv layer of seed document 000 ("Nothing Knew"), before any training.

Question: what do 12 random 6x6x3 filters make of an image of red, green and blue circles, and
how much does their recombined output (filter i feeds channel i mod 3, averaged) look like it?

Document figures: weights "between ~0.1 and -0.1"; a 0.01 weight on a saturated 255 pixel gives
about 2, near black; the recombined output "vaguely looks like the input". Nothing to train.

Command: `make experiment NAME=shapes_untrained`. Look at artifacts/OutputEvolution/ (input.png,
output_epoch000.png, its caption gives the value range), artifacts/ActivationCapture/ (the mural
of the 12 feature maps) and artifacts/WeightRange/weight_range.csv.
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer, Reference
from convwatch.models import shapes_reconstruction

SOURCE = "document 000, Network 1"

EXPERIMENT = Experiment(
    name="shapes_untrained",
    description="12 random 6x6x3 filters on the shapes image, recombined into RGB (document 000)",
    # Data: one 64x64 image, raw 0-255 values as the document's "255 * 0.01 = 2" arithmetic uses.
    data=Data(name="shapes", normalize="none", options={"size": 64, "variant": "simple"}),
    # Model: Conv2D(12, 6x6, same, no bias, weights uniform in ±0.1) > fixed recombination.
    build_model=shapes_reconstruction,
    # Optimizer: unused (nothing is fitted); the same as shapes_reconstruct, so the models match.
    compile=Compile(optimizer=Optimizer("adam", 1e-4), loss="mse", metrics=()),
    # Fit: 0 epochs: the callbacks capture the untrained net at train begin and end.
    fit=Fit(epochs=0, batch_size=1, validation="none"),
    callbacks={
        "OutputEvolution": {},  # input.png and the recombined output, with its value range
        "ActivationCapture": {"layers": ("conv1",), "probe_size": 1},  # mural of the 12 maps
        "PixelTracker": {"circles": ("red",)},  # what the red circle's centre comes out as
        "WeightRange": {},  # the filters' smallest and largest weight
    },
    seed=0,
    references=(Reference("conv1_kernel_absmax_seen", 0.1, "largest |filter weight|", SOURCE),),
)
