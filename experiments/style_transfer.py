"""Style transfer between scikit-learn's two photos (seed document 001).

Question: can an image keep one photo's layout (china.jpg: the temple) while taking another's
textures and colours (flower.jpg), by matching a late layer's features for the content and the
Gram matrices (which features fire together, wherever) of several layers for the style?
The document uses VGG with ImageNet weights. This machine cannot download them: with
`network="auto"` VGG19 is used only when its weights are in the Keras cache, and otherwise the
features come from the model built here, a random-weight multi-scale shallow conv net
(`convwatch.techniques.backbones.random_multiscale_net`; random filters carry texture well,
Ustyuzhaninov et al. 2016). That fallback is said in the console, run.json and the report:
expect colours and fine textures to move across, not the painterly strokes of an ImageNet network.

Command: `make experiment NAME=style_transfer` (about a minute on two CPU cores).
Pictures: `artifacts/StyleTransfer/style_transfer_epoch000.png` (content, style, result) and
`loss_epoch000.png` (content, style and total loss per step).
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer
from convwatch.techniques.backbones import random_multiscale_net

EXPERIMENT = Experiment(
    name="style_transfer",
    description="style transfer of flower.jpg onto china.jpg (VGG19 ImageNet if cached, "
    "else random multi-scale features)",
    # Data: the content photo, RGB, long side 192 px, pixels / 255.
    data=Data(
        name="sample_photo",
        normalize="unit",
        one_hot=False,
        options={"photo": "china", "gray": False, "size": 192},
    ),
    # Model: the fallback feature network, frozen random filters; nothing is trained.
    build_model=random_multiscale_net,
    # Optimizer: unused (nothing is fitted); the runner still compiles and evaluates the net.
    compile=Compile(optimizer=Optimizer("adam", 1e-3), loss="mse", metrics=()),
    fit=Fit(epochs=0, batch_size=1, validation="none"),
    callbacks={
        "StyleTransfer": {
            "style": "flower",  # or "china", or the path of any image file
            "network": "auto",  # VGG19 (ImageNet) when cached, else the random net above
            "steps": 200,  # the loss is flat after about 100 steps
            "verbose": 1,
        },
    },
    seed=0,
)
