"""Seed document 000's reconstruction with a harder image: straight edges and corners.

Question: with black lines and corners drawn over the circles, does the same 12-filter net learn
to redraw the image as fast as the plain one, and where does it lose?

Document figures (none are numbers): at the same learning rate (1e-4) it learns "at the same
rate" as the simple image ("the convergence is nearly identical"), with a higher loss, and the
output is fuzzy at the edges. The red-centre pixel figures of the simple image, (250, 8, 6) after
1,000 steps, are printed beside this run for that reason: the document says they should match.

Command: `make experiment NAME=shapes_complicated`; its loss against the simple case and the
morphs, on one chart: `python -m convwatch.report.overlays OUT_DIR <run folders>`.
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer, Reference
from convwatch.models import shapes_reconstruction

SOURCE = "document 000: 'the same rate' as the simple image's"

EXPERIMENT = Experiment(
    name="shapes_complicated",
    description="12-filter net redraws the shapes image with edges and corners (doc 000)",
    # Data: the complicated drawing as input and target; its circle centres stay pure colours.
    data=Data(name="shapes", normalize="none", options={"variant": "complicated"}),
    # Model, optimizer and fit: those of shapes_reconstruct (see its docstring for why).
    build_model=shapes_reconstruction,
    compile=Compile(optimizer=Optimizer("adam", 1e-4), loss="mse", metrics=()),
    fit=Fit(epochs=1000, batch_size=1, steps_per_epoch=1, validation="none", shuffle=False),
    callbacks={
        "PixelTracker": {"circles": ("red",)},  # the same pixel as the simple case
        "OutputEvolution": {"every_n_steps": 10},  # are the edges fuzzy?
        "FilterEvolution": {"every_n_steps": 10, "every_n_epochs": 0},
    },
    seed=0,
    references=(
        Reference("pixel_red_centre_r", 250, "red-centre R at 1,000 steps", SOURCE),
        Reference("pixel_red_centre_g", 8, "red-centre G at 1,000 steps", SOURCE),
        Reference("pixel_red_centre_b", 6, "red-centre B at 1,000 steps", SOURCE),
    ),
)
