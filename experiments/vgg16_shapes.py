"""VGG-16 layer by layer, and the conv arithmetic of seed document 002 (documents 001, 002).

Question: what shape does each VGG-16 layer output (224x224x64 after the first block's convs,
halved by every pooling, 7x7x512 at the end), and do 3x3 convolutions on 32x32x3 give what
document 002 computes (valid 30x30, same 32x32, stride 2: valid 15x15, same 16x16)?

Command: `make experiment NAME=vgg16_shapes` (seconds; random weights, nothing downloaded,
nothing trained). Tables: artifacts/LayerShapes/{layer_shapes.txt,csv, conv_arithmetic.csv},
also printed. `ARGS="model.include_top=true"` adds the dense layers (138M parameters, 528 MB).
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer
from convwatch.models.fixed_filters import vgg16

EXPERIMENT = Experiment(
    name="vgg16_shapes",
    description="VGG-16 (weights=None) output shapes, and 002's conv arithmetic checked in Keras",
    # Data: one 224x224 RGB photo (scikit-learn's china.jpg, centre square), so the net runs.
    data=Data(
        name="sample_photo",
        normalize="unit",
        one_hot=False,
        options={"photo": "china", "gray": False, "size": 224, "square": True},
    ),
    # Model: keras.applications.VGG16, random weights, without the dense top (14.7M weights).
    build_model=vgg16,
    model={"include_top": False},
    # Optimizer: unused (nothing is fitted).
    compile=Compile(optimizer=Optimizer("adam", 1e-3), loss="mse", metrics=()),
    # Fit: 0 epochs: the shapes are read when training begins.
    fit=Fit(epochs=0, batch_size=1, validation="none"),
    callbacks={"LayerShapes": {"arithmetic_input": (32, 32, 3)}},
    seed=0,
)
