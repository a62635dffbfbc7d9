"""`fashion_cnn` trained with SGD + momentum instead of Adam (seed document 001).

Question: the document's author used Adam and the course's solution SGD with momentum, and both
landed near 87% after 5 epochs. With everything else equal (net, dropout, data, seed, epochs),
how far apart are the two optimisers here? Compare with `convwatch compare` on the two runs.

Command: `make experiment NAME=fashion_cnn_sgd` (about as long as `fashion_cnn`).
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer, Reference
from convwatch.models import fashion_cnn

EXPERIMENT = Experiment(
    name="fashion_cnn_sgd",
    description="fashion_cnn with SGD + momentum 0.9, the optimiser of the document's course",
    # Data and model: exactly those of fashion_cnn.
    data=Data(name="fashion_mnist", normalize="unit", one_hot=True),
    build_model=fashion_cnn,
    model={"filters": 32, "dropout": 0.25, "head": "flatten"},
    # Optimizer: SGD with momentum 0.9 (the `sgd_momentum` preset) at lr 0.01, SGD's usual rate.
    compile=Compile(optimizer=Optimizer("sgd_momentum", 0.01), loss="categorical_crossentropy"),
    fit=Fit(epochs=5, batch_size=64, validation="test"),
    callbacks={"ClassificationReport": {"verbose": 1}},
    seed=1,
    references=(
        Reference(
            "initial_test_accuracy", 0.10, "accuracy before training", "document 001: chance", True
        ),
        Reference(
            "test_accuracy", 0.87, "test accuracy", "document 001, about 87% after 5 epochs", True
        ),
    ),
)
