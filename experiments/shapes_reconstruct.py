"""Seed document 000's 12-filter net trained to redraw its input: the tracked red pixel.

Question: trained for 1,000 steps (one image per step) so that the recombined output equals the
input, where does the pixel at the centre of the red circle end up, and at higher learning rates
how soon does it reach (255, 0, 0) ±2, and how far does it stray on the way?

Document figures: at 1e-4 after 1,000 steps the pixel is about (250, 8, 6); at 1e-2 it is within
±2 of (255, 0, 0) after 312 steps; at 1.0 after about 210 steps, having first exploded to about
(9175, 9200, 9199). Each run prints the figures for its own learning rate (`Reference.when`).

Choices, and why (the document names none of them): Adam, because the explosion is Adam's
signature: its first step moves every weight by the learning rate, so at 1.0 all 36 red taps of
a filter become about 1 and the red centre reads about 36 * 255 = 9180 on every channel, the
document's (9175, 9200, 9199); plain SGD on raw pixels overflows to NaN within 20 steps at 1e-4
already. MSE, the usual pixel loss (Adam divides out its scale). Raw 0-255 pixels, as in the
document's arithmetic; for this linear, bias-free net Adam's steps do not depend on the pixel
scale: `data.normalize=unit` gives the same pixel times 1/255 (set the PixelTracker tolerance to
2/255 there). Weights uniform in ±0.1 ("between ~0.1 and -0.1"). Nothing was tuned to a figure.

This run: (206, 39, 52) at 1e-4; 570 steps at 1e-2; 492 at 1.0 after a first-step explosion to
(9208, 9205, 9131). The explosion matches; convergence is about twice as slow. The image size,
which the document does not give, moves the counts (32 px: 455 and 361; 128 px: 637 and 558), as
does a truncated-normal start (483 and 459); none of them reaches 312 and 210.

Command: `make experiment NAME=shapes_reconstruct`; the learning-rate table and overlaid charts:
`make experiment NAME=shapes_reconstruct ARGS="compile.optimizer.learning_rate=1e-4,1e-2,1.0"`
(sweep_references.csv, sweep_pixels.csv, sweep_pixels_red_centre.png in the sweep folder).
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer, Reference
from convwatch.models import shapes_reconstruction

LR = "compile.optimizer.learning_rate"
SLOW, MID, FAST = {LR: 1e-4}, {LR: 1e-2}, {LR: 1.0}  # the document's three learning rates
SOURCE = "document 000, Network 2"
TO_TARGET = "steps to (255, 0, 0) ±2"

EXPERIMENT = Experiment(
    name="shapes_reconstruct",
    description="12-filter conv net redraws the shapes image; red-centre pixel per step (doc 000)",
    # Data: the simple image as input and target, raw 0-255 values.
    data=Data(name="shapes", normalize="none", options={"size": 64, "target": "same"}),
    # Model: Conv2D(12, 6x6, same, no bias, uniform ±0.1) > fixed recombination (i mod 3).
    build_model=shapes_reconstruction,
    # Optimizer: Adam at the document's "very low" 1e-4, pixel-wise MSE.
    compile=Compile(optimizer=Optimizer("adam", 1e-4), loss="mse", metrics=()),
    # Fit: 1,000 epochs of one step = 1,000 steps, each one's loss a row of history.csv (one
    # step per epoch from a repeated stream: no per-epoch re-reading of the arrays, 7x faster).
    fit=Fit(epochs=1000, batch_size=1, steps_per_epoch=1, validation="none", shuffle=False),
    callbacks={
        "PixelTracker": {"circles": ("red",), "tolerance": 2.0},  # every step, vs the target
        "OutputEvolution": {"every_n_steps": 10},  # output.gif: 101 frames
        "FilterEvolution": {"every_n_steps": 10, "every_n_epochs": 0},  # filters + 12 maps GIFs
        "WeightRange": {"every_n_steps": 10, "every_n_epochs": 0},  # the jump at lr 1.0
    },
    seed=0,
    references=(  # each printed only by the run at its learning rate
        Reference("pixel_red_centre_r", 250, "red-centre R at 1,000 steps", SOURCE, when=SLOW),
        Reference("pixel_red_centre_g", 8, "red-centre G at 1,000 steps", SOURCE, when=SLOW),
        Reference("pixel_red_centre_b", 6, "red-centre B at 1,000 steps", SOURCE, when=SLOW),
        Reference("pixel_red_centre_steps_to_target", 312, TO_TARGET, SOURCE, when=MID),
        Reference("pixel_red_centre_steps_to_target", 210, TO_TARGET, SOURCE, when=FAST),
        Reference("pixel_red_centre_peak_r", 9175, "largest R on the way", SOURCE, when=FAST),
        Reference("pixel_red_centre_peak_g", 9200, "largest G on the way", SOURCE, when=FAST),
        Reference("pixel_red_centre_peak_b", 9199, "largest B on the way", SOURCE, when=FAST),
    ),
)
