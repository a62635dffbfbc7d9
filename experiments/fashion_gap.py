"""GlobalAveragePooling2D instead of Flatten in `fashion_cnn` (seed document 001).

Question: the document names global average pooling as the extreme pooling ("a crumb for each
pancake"): each feature map becomes one number. How many weights does that save in front of the
dense layer, and what does it cost in accuracy after 5 epochs? One sweep runs both heads; the
sweep folder's `sweep_table.csv` puts parameter counts and accuracies side by side.

Command: `make experiment NAME=fashion_gap` (two runs, about twice `fashion_cnn`'s time;
only the GAP net: `ARGS="model.head=gap"`).
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer, Reference
from convwatch.models import fashion_cnn

EXPERIMENT = Experiment(
    name="fashion_gap",
    description="fashion_cnn with a Flatten vs a GlobalAveragePooling2D head: weights, accuracy",
    # Data, optimizer and fit: those of fashion_cnn, so only the head differs.
    data=Data(name="fashion_mnist", normalize="unit", one_hot=True),
    build_model=fashion_cnn,
    model={"filters": 32, "dropout": 0.25, "head": "gap"},
    compile=Compile(optimizer=Optimizer("adam", 1e-3), loss="categorical_crossentropy"),
    fit=Fit(epochs=5, batch_size=64, validation="test"),
    callbacks={"ClassificationReport": {"verbose": 1}},
    seed=1,
    # Both heads, one run folder each, in one sweep folder.
    sweep=("model.head=flatten,gap",),
    references=(
        Reference(
            "test_accuracy", 0.87, "test accuracy", "document 001, about 87% after 5 epochs", True
        ),
    ),
)
