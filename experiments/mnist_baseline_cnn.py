"""The "more basic" one-conv-layer MNIST net that seed document 004 starts from.

Question: how much does the second conv layer of `mnist_larger_cnn` buy over one Conv2D(32, 5x5)
layer feeding a 128-unit dense layer? The document reports no figure for this net; the run is the
baseline `mnist_larger_cnn` is compared against (`convwatch compare`).

Command: `make experiment NAME=mnist_baseline_cnn`.
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer
from convwatch.models import baseline_cnn

EXPERIMENT = Experiment(
    name="mnist_baseline_cnn",
    description="one-conv-layer baseline CNN on MNIST (document 004's 'more basic' model)",
    # Data: same preparation as mnist_larger_cnn, so the two runs differ only in the model.
    data=Data(name="mnist", normalize="unit", one_hot=True),
    # Model: Conv(32,5x5) > pool > dropout 0.2 > 128 > 10.
    build_model=baseline_cnn,
    # Optimizer and fit: the same as the larger net.
    compile=Compile(optimizer=Optimizer("adam", 1e-3), loss="categorical_crossentropy"),
    fit=Fit(epochs=10, batch_size=100, validation="test"),
    seed=7,
)
