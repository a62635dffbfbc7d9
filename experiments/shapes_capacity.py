"""Beyond seed document 000: how much depth it takes to draw edges that are not in the input.

Question: the document stops at "the model will be given a little more capacity". Given the edge
morph (simple input, complicated target), which depth of bias-free 6x6 conv stacks (ReLU between
layers, 12 filters each, the same fixed read-out) draws the black lines on plain white?

Design: one model, four independent branches of depth 1, 2, 3 and 5 side by side on the same
input (outputs `depth1` ... `depth5`); the loss is their sum, so each branch learns exactly as
it would alone, on the same steps. Each branch's loss is in history.csv (`depth3_loss`);
output.gif shows the target and the four outputs side by side; the PixelTracker follows the
edge pixel (26, 6) (white in the input, black in the target) in each branch.

Learning rate 1e-3, not the document's 1e-4: at 1e-4, 1,000 steps leave the deeper branches
half-way (the edge pixel of depth 5 is still near 110), which would measure the step budget,
not capacity; `ARGS="compile.optimizer.learning_rate=1e-4"` shows that. No document figure.

Command: `make experiment NAME=shapes_capacity`.
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer
from convwatch.models import shapes_capacity

EDGE = (26, 6)  # on the horizontal line (row 0.42 of the 64-px image), outside every circle

EXPERIMENT = Experiment(
    name="shapes_capacity",
    description="edge morph by 1-, 2-, 3- and 5-layer conv branches side by side (beyond doc 000)",
    # Data: simple input, complicated target (the morph the one-layer net cannot do).
    data=Data(name="shapes", normalize="none", options={"target": "complicated"}),
    # Model: branches of depth 1, 2, 3, 5; receptive fields 6, 11, 16 and 26 pixels.
    build_model=shapes_capacity,
    model={"depths": (1, 2, 3, 5)},
    # Optimizer: Adam and MSE as in shapes_reconstruct, at 1e-3 (see above).
    compile=Compile(optimizer=Optimizer("adam", 1e-3), loss="mse", metrics=()),
    fit=Fit(epochs=1000, batch_size=1, steps_per_epoch=1, validation="none", shuffle=False),
    callbacks={
        "PixelTracker": {"pixels": {"edge": EDGE}},  # one series per branch: depth5_edge, ...
        "OutputEvolution": {"every_n_steps": 10},  # target and the four outputs side by side
    },
    seed=0,
)
