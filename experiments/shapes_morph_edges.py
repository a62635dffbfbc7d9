"""Seed document 000's net asked to draw edges that are not in its input.

Question: the input is the simple image (circles only) and the target the complicated one
(black lines and corners over the circles). Can one 6x6 conv layer add lines to plain white?

Document figures (none are numbers): "the model indicates that it has reached its limit"; it
"does not seem to have the capacity" to add edges. Here that is measured at a pixel of the
horizontal black line, (26, 6): white (255) in the input, black (0) in the target. What more
depth does to it is `shapes_capacity`.

Command: `make experiment NAME=shapes_morph_edges`.
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer
from convwatch.models import shapes_reconstruction

EDGE = (26, 6)  # on the horizontal line (row 0.42 of the 64-px image), outside every circle

EXPERIMENT = Experiment(
    name="shapes_morph_edges",
    description="12-filter net asked to add edges and corners absent from its input (doc 000)",
    # Data: simple input, complicated target.
    data=Data(name="shapes", normalize="none", options={"target": "complicated"}),
    # Model, optimizer and fit: those of shapes_reconstruct (see its docstring for why).
    build_model=shapes_reconstruction,
    compile=Compile(optimizer=Optimizer("adam", 1e-4), loss="mse", metrics=()),
    fit=Fit(epochs=1000, batch_size=1, steps_per_epoch=1, validation="none", shuffle=False),
    callbacks={
        # the red centre (unchanged by the morph) and a line pixel that must turn black
        "PixelTracker": {"circles": ("red",), "pixels": {"edge": EDGE}},
        "OutputEvolution": {"every_n_steps": 10},
        "FilterEvolution": {"every_n_steps": 10, "every_n_epochs": 0},
    },
    seed=0,
)
