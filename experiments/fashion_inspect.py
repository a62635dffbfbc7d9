"""Looking inside the small Fashion-MNIST CNN: which pixels decide each prediction (issue 6).

Question: after a short training, does the net look at the garment itself (collar, sleeves, the
sole of a shoe) or at the background? Saliency and SmoothGrad (the gradient of the class
probability), occlusion (the drop of the true class's probability under a 4x4 grey patch,
document 001/002, and beside it under a black patch, the background's value), Grad-CAM on the
last conv layer and guided backpropagation (001), for the same 8 test images, one row per image
titled with its true and predicted class. Expected: the grey patch's biggest drops sit on the
black background (grey there is a new shape, not a hidden one); the black patch's on the garment.

Command: `make experiment NAME=fashion_inspect` (under a minute on two CPU cores). To look
inside a net trained before, without training: `make experiment NAME=fashion_inspect
ARGS="model=results/fashion_cnn/<run>"` (the run folder's model.keras; tags become epoch000).
Pictures: `artifacts/Interpretation/<technique>_epoch002.png` (maps in `interpretation_*.npz`)
and `artifacts/ActivationCapture/<layer>_epoch002.png` (the partial outputs).
"""

from convwatch import Compile, Data, Experiment, Fit, Optimizer
from convwatch.models import fashion_cnn

EXPERIMENT = Experiment(
    name="fashion_inspect",
    description="saliency, occlusion, Grad-CAM, guided backprop of the Fashion-MNIST CNN",
    # Data: 20,000 training images are plenty for a net worth looking inside (~85% accurate).
    data=Data(name="fashion_mnist", normalize="unit", one_hot=True, limit=20000),
    # Model: document 001's net (conv 32 > pool > conv 64 > pool > dense 128), as fashion_cnn.
    build_model=fashion_cnn,
    model={"filters": 32, "dropout": 0.25, "head": "flatten"},
    # Optimizer: Adam, as in fashion_cnn.
    compile=Compile(optimizer=Optimizer("adam", 1e-3), loss="categorical_crossentropy"),
    # Fit: 2 epochs, "briefly": the maps are already sharp; more epochs change them little.
    fit=Fit(epochs=2, batch_size=64, validation="test"),
    callbacks={
        # Partial outputs (document 002): one test image through every conv, pooling and dense
        # layer, each layer's maps as a mural, untrained and after each epoch.
        "ActivationCapture": {"probe_size": 1},
        # At train end: every technique for the first 8 test images (labels as targets).
        "Interpretation": {
            "size": 8,
            "techniques": ("saliency", "smoothgrad", "occlusion", "grad_cam", "guided_backprop"),
            "patch": 4,  # the 4x4 patch of the documents, slid 1 pixel at a time
            "fill": 0.5,  # the documents' grey patch; shown beside one of the background's
            # value (black, estimated from the images' borders), which hides only the garment
            "verbose": 1,
        },
    },
    seed=1,
)
