"""One MLP, eight optimisers: SGD, SGD + momentum, RMSprop, Adam, Adagrad, Adadelta, Nadam, AdamW.

Question: seed document 003 asks to "experiment with all of the available" gradient-descent
optimisers. Trained the same way from the same start, which learns fastest and which ends best?
The sweep folder holds `sweep_curves.png` (all loss and accuracy curves on one chart),
`sweep_table.csv` and `sweep_verdicts.txt` (per optimiser: final test accuracy, first epoch at
95% validation and train accuracy).

Each optimiser runs at Keras' own default learning rate (SGD 0.01, the others 0.001), as they
come out of the box; Adagrad and especially Adadelta (whose paper used 1.0) are slow at 0.001,
which is part of the answer. Another rate for all: `ARGS="compile.optimizer.learning_rate=0.01"`.

Command: `make experiment NAME=mnist_optimizers` (eight runs; a few minutes on the offline
MNIST subset). One optimiser only: `ARGS="compile.optimizer.name=nadam"`.
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer
from convwatch.models import mlp

EXPERIMENT = Experiment(
    name="mnist_optimizers",
    description="the MNIST MLP under eight optimisers, one sweep, curves overlaid",
    # Data and model: mnist_mlp's (pixels / 255, 784-512-512-10 with dropout 0.2).
    data=Data(name="mnist", normalize="unit", one_hot=True),
    build_model=mlp,
    # Optimizer: learning_rate None = each optimiser's Keras default; the name is swept below.
    compile=Compile(optimizer=Optimizer("adam", None), loss="categorical_crossentropy"),
    # Fit: 10 epochs of batch 32 (Keras' default batch): enough steps to tell them apart.
    fit=Fit(epochs=10, batch_size=32, validation="test"),
    seed=0,  # the same initial weights for every optimiser
    # sgd_momentum is SGD with momentum 0.9 (a preset, so it is one sweep value).
    sweep=("compile.optimizer.name=sgd,sgd_momentum,rmsprop,adam,adagrad,adadelta,nadam,adamw",),
)
