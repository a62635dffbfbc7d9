"""Four hand-made 4x4 edge filters on a photograph, before any training (seed document 001).

Question: what does a conv layer with a vertical-edge, a horizontal-edge and the two negated
filters make of a real photo, and what do the ReLU and the 2x2 max pooling after it keep?
Expected: before the ReLU each map is signed (an edge and its opposite, dark-to-bright and
bright-to-dark); after it, a filter and its negative split the edges between them; after
pooling, the same edges at half the resolution.

Command: `make experiment NAME=edge_filters` (seconds). Picture:
`artifacts/PartialOutputs/stages_epoch000.png` (rows: the 4 filters; columns: conv, relu, pool).
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer
from convwatch.models.fixed_filters import edge_filter_net

EXPERIMENT = Experiment(
    name="edge_filters",
    description="4 fixed 4x4 edge filters on a grayscale photo: before/after ReLU, after pooling",
    # Data: scikit-learn's china.jpg (no download), gray, long side 320 px, pixels / 255.
    data=Data(
        name="sample_photo",
        normalize="unit",
        one_hot=False,
        options={"photo": "china", "gray": True, "size": 320},
    ),
    # Model: Conv2D with the 4 edge filters as frozen weights > ReLU > MaxPooling2D(2).
    build_model=edge_filter_net,
    # Optimizer: unused (nothing is fitted); the runner still compiles and evaluates the net.
    compile=Compile(optimizer=Optimizer("adam", 1e-3), loss="mse", metrics=()),
    # Fit: 0 epochs: the maps are captured at train begin.
    fit=Fit(epochs=0, batch_size=1, validation="none"),
    callbacks={
        "PartialOutputs": {"layers": ("conv", "relu", "pool")},  # the three stages side by side
    },
    seed=0,
)
