"""Deep Dream on a photograph (seed document 001): what a trained conv layer would like to see.

Question: if we change a photo, by gradient ascent, so that a layer's activations grow, what
patterns appear? The document dreams with a network trained on ImageNet. This machine cannot
download ImageNet weights, so with `network="auto"` the dream uses InceptionV3 only when its
weights are already in the Keras cache, and otherwise the Fashion-MNIST CNN this run trains
(a fallback, said so in the console, run.json and the report): its last conv layer grows the
small strokes and edges of garments over the grey photo, not ImageNet's eyes and dogs.

Command: `make experiment NAME=deep_dream` (about a minute on two CPU cores); dream with a
net trained before: `make experiment NAME=deep_dream ARGS="model=results/fashion_cnn/<run>"`;
with InceptionV3's weights in the Keras cache, `ARGS="fit.epochs=0"` skips training the fallback.
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
            # long side in pixels; at 3 octaves 1.5 apart the smallest (95x142) is still
            # large enough for InceptionV3's mixed7, and the CNN's 3x3 filters still draw
            # patterns that can be seen
            "size": 320,
            "network": "auto",  # InceptionV3 (ImageNet) when cached, else this run's CNN
            "octaves": 3,
            "octave_scale": 1.5,
            "steps": 20,
            # pixels move 0.5% of the range a step on average (keras.io's 0.01 on [-1, 1])
            "step_size": 0.005,
            "verbose": 1,
        },
    },
    seed=1,
)
