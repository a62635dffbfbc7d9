"""One network, four seeds: do the 30/15 nets learn the same features? (convergent learning)

Question: seed document 004's 30/15-filter net, trained four times with nothing changed but the
seed (the initial weights and the order of the batches). Their test errors come out close; did
they learn the same representations on the way? The sweep's page answers under "What the
networks learned": each seed's layers against seed 1's by linear CKA (Kornblith et al. 2019),
beside the same architecture untrained, and conv1's and conv2's filters matched one to one by
the correlation of their activations, the atlas tiles of each pair side by side.

Reference: Li, Yosinski, Clune, Lipson and Hopcroft ("Convergent Learning", ICLR 2016) matched
the units of ImageNet networks trained from different seeds: many features had a close partner
in the other network, some were learned by one network only, and matches were closest in the
first layers. On two seeds of this net, 3 epochs on 4,000 digits, we measured about half of
conv1's 30 filters matched above r 0.8 (median r about 0.8), fewer of conv2's 15.

Command: `make experiment NAME=mnist_seeds` (four runs of 3 epochs; about a minute on the
offline MNIST subset, on 2 CPU cores).
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer
from convwatch.models import larger_cnn

EXPERIMENT = Experiment(
    name="mnist_seeds",
    description="the 30/15 CNN under four seeds: what they learned alike (CKA, matched filters)",
    # Data and model: mnist_larger_cnn's (pixels / 255, one-hot; 30 > 15 conv, 128 > 50 > 10).
    data=Data(name="mnist", normalize="unit", one_hot=True),
    build_model=larger_cnn,
    compile=Compile(optimizer=Optimizer("adam", 1e-3), loss="categorical_crossentropy"),
    # Fit: a few epochs are enough for the filters to settle (the atlas shows them epoch by epoch).
    fit=Fit(epochs=3, batch_size=100, validation="test"),
    # Captures: the filter atlas, whose last tiles the matched-filter pictures set side by side.
    callbacks={"FilterMaximization": {}},
    seed=1,
    sweep=("seed=1,2,3,4",),
)
