"""A small CNN with dropout on Fashion-MNIST, before and after 5 epochs (seed document 001).

Question: where does an untrained net start (chance: about 10%), does a small conv net with
dropout beat the document's "about 87% after 5 epochs", and which garments does it still mix up
(the document: shirts, pullovers and coats)?

Command: `make experiment NAME=fashion_cnn` (about two minutes on two CPU cores;
quick look: `ARGS="fit.epochs=1 data.limit=5000"`). Fashion-MNIST comes from
`$FASHION_MNIST_DIR`, the Keras cache or Debian's `dataset-fashion-mnist` package.
The same net trained with SGD + momentum, as the document's course did: `fashion_cnn_sgd`.
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer, Reference
from convwatch.models import fashion_cnn

EXPERIMENT = Experiment(
    name="fashion_cnn",
    description="small CNN with dropout on Fashion-MNIST; document 001: about 87% after 5 epochs",
    # Data: the full 60,000/10,000 Fashion-MNIST, pixels / 255, one-hot labels.
    data=Data(name="fashion_mnist", normalize="unit", one_hot=True),
    # Model: conv 32 > pool > conv 64 > pool > dropout > flatten > 128 > dropout > 10.
    build_model=fashion_cnn,
    model={"filters": 32, "dropout": 0.25, "head": "flatten"},
    # Optimizer: Adam, as the document's author chose over the course's SGD + momentum.
    compile=Compile(optimizer=Optimizer("adam", 1e-3), loss="categorical_crossentropy"),
    # Fit: the document's 5 epochs; batch 64 keeps an epoch under half a minute on 2 cores.
    fit=Fit(epochs=5, batch_size=64, validation="test"),
    callbacks={
        # Before training (epoch 0) and after the last epoch: accuracy per class, confusion
        # matrix, confused pairs, random and wrong predictions. The whole test set.
        "ClassificationReport": {"verbose": 1},
    },
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
