"""Seed document 000's net asked to morph colours: red becomes green, green blue, blue red.

Question: the input is the simple image and the target the same image with its primaries
swapped. Can a single linear conv layer with a fixed channel read-out shift colours around?

Document figures (none are numbers): it "still seems to be able to shift primary colors
around"; the loss ends "much higher" at 1e-4, which "does go away with a more optimal learning
rate" (try `ARGS="compile.optimizer.learning_rate=1e-4,1e-2"`). The red-centre pixel is tracked
toward its new colour, (0, 255, 0).

Command: `make experiment NAME=shapes_morph_colors`.
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer
from convwatch.models import shapes_reconstruction

EXPERIMENT = Experiment(
    name="shapes_morph_colors",
    description="12-filter net maps the shapes image to its colour-swapped version (doc 000)",
    # Data: simple input; target with R->G, G->B, B->R (the white background stays white).
    data=Data(name="shapes", normalize="none", options={"target": "swap_colors"}),
    # Model, optimizer and fit: those of shapes_reconstruct (see its docstring for why).
    build_model=shapes_reconstruction,
    compile=Compile(optimizer=Optimizer("adam", 1e-4), loss="mse", metrics=()),
    fit=Fit(epochs=1000, batch_size=1, steps_per_epoch=1, validation="none", shuffle=False),
    callbacks={
        "PixelTracker": {"circles": ("red",)},  # target taken from the swapped image: green
        "OutputEvolution": {"every_n_steps": 10},
        "FilterEvolution": {"every_n_steps": 10, "every_n_epochs": 0},
    },
    seed=0,
)
