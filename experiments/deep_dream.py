"""Deep Dream on a photograph (seed document 001): what a trained conv layer would like to see.

Question: if we change a photo, by gradient ascent, so that a layer's activations grow, what
patterns appear? The document dreams with a network trained on ImageNet. This machine cannot
download ImageNet weights, so with `network="auto"` the dream uses InceptionV3 only when its
weights are already in the Keras cache, and otherwise the Fashion-MNIST CNN this run trains
(a fallback, said so in the console, run.json and the report): its last conv layer grows the
small strokes and edges of garments over the grey photo, not ImageNet's eyes and dogs.

Command: `make experiment NAME=deep_dream` (about a minute on two CPU cores); dream with a
net trained before: `make experiment NAME=deep_dream ARGS="model=results/fashion_cnn/<run>"`.
Pictures: `artifacts/DeepDream/dream_epoch002.png` (the photo and its dream) and
`loss_epoch002.png` (the activation being grown, step by step, octave after octave).
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer
from convwatch.models import fashion_cnn

EXPERIMENT = Experiment(
    name="deep_dream",
    description="Deep Dream of scikit-learn's china.jpg (ImageNet InceptionV3 if cached, "
    "else a Fashion-MNIST CNN trained here)",
    # Data: what the fallback network learns from (20,000 Fashion-MNIST images, as
    # fashion_inspect); the photo dreamed on is the callback's `photo`.
    data=Data(name="fashion_mnist", normalize="unit", one_hot=True, limit=20000),
    # Model: document 001's Fashion-MNIST CNN (conv 32 > pool > conv 64 > pool > dense 128).
    build_model=fashion_cnn,
    model={"filters": 32, "dropout": 0.25, "head": "flatten"},
    compile=Compile(optimizer=Optimizer("adam", 1e-3), loss="categorical_crossentropy"),
    # Fit: 2 epochs (~86% test accuracy): the conv filters have settled into edge and stroke
    # detectors by then.
    fit=Fit(epochs=2, batch_size=64, validation="test"),
    callbacks={
        "DeepDream": {
            "photo": "china",  # or "flower", or the path of any image file
            "size": 192,  # long side in pixels: the net's 3x3 filters see small patterns
            "network": "auto",  # InceptionV3 (ImageNet) when cached, else this run's CNN
            # 4 octaves 1.6 apart: the patterns grow at 4 scales of the photo
            "octaves": 4,
            "octave_scale": 1.6,
            "steps": 20,
            # pixels move 0.3% of the range a step on average: past ~0.005 this net's dream
            # turns the photo black and white
            "step_size": 0.003,
            "verbose": 1,
        },
    },
    seed=1,
)
