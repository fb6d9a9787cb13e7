"""The image anomaly detector with the defaults chosen on the one-class benchmarks.

:class:`ImageAutoencoder` is :class:`~ae_anomaly.ConvAutoencoder` with other defaults: a
dense network around the code, a training budget counted in optimizer steps as well as
epochs, and no held-out early stopping (benchmarks/results/images_levers.md).
"""

import math
from numbers import Integral

from ._conv_base import _SHARED, CONV_ATTRIBUTES, CONV_PARAMETERS, _drop_entries
from ._docs import COMMON_ATTRIBUTES
from ._sklearn_compat import Interval, StrOptions
from .conv import ConvAutoencoder

#: ``max_iter="auto"``: at least this many epochs and this many optimizer steps.
AUTO_EPOCHS, AUTO_STEPS = 12, 1000


def epoch_budget(n_rows, batch_size, epochs=AUTO_EPOCHS, steps=AUTO_STEPS):
    """``epochs``, or more when that is fewer than ``steps`` optimizer steps of
    ``batch_size`` rows (``max_iter="auto"``).

    Examples
    --------
    >>> epoch_budget(6000, 64), epoch_budget(500, 64), epoch_budget(500, 64, steps=0)
    (12, 125, 12)
    """
    steps_per_epoch = max(1, math.ceil(n_rows / batch_size))
    return max(epochs, math.ceil(steps / steps_per_epoch))

_IMAGE_PARAMETERS = (
    _drop_entries(CONV_PARAMETERS, {"channels", "hidden_layer_sizes"})
    + """\
channels : tuple of int, default=()
    Output channels of 3x3 stride-2 convolutions before the dense layers, as in
    :class:`ConvAutoencoder`. ``()``, the default, has none: the pixels go straight to
    the dense layers, which ranked anomalies better on all three one-class benchmarks.
hidden_layer_sizes : tuple of int or None, default=(1024,)
    Widths of the dense layers between the pixels and the code (mirrored in the
    decoder); None is the default, ``(1024,)``, and ``()`` none. 1,024 units beat 512
    on CIFAR-10 (65.5 -> 67.4 AUROC, seed 0) and were as good on MNIST (98.5 -> 98.6)
    and Fashion-MNIST (93.7 -> 94.0, 3 seeds).
n_components : int or None, default=None
    Size of the code. None: 32 for images of up to 28 x 28 pixels, 64 for larger ones
    (kept below the number of pixel values).
max_iter : int or "auto", default="auto"
    Epochs. "auto" trains for 12 epochs, or longer when 12 epochs are fewer than 1,000
    optimizer steps (small training sets: 500 images in batches of 64 get 125 epochs;
    an epoch counts as ``ceil(n_images / batch_size)`` steps, also in ``fit_chunks``).
    Training still stops once the training loss has not improved by ``tol`` for
    ``n_iter_no_change`` epochs. An int is a plain epoch budget, and reaching it warns
    (``ConvergenceWarning``) unless training stopped before.
batch_size : int or "auto", default=64
    Mini-batch size ("auto": 256).
learning_rate_init : float, default=1e-3
    Adam's learning rate.
early_stopping : bool, default=False
    Hold out ``validation_fraction`` of the images and stop when their reconstruction
    error stops improving. Off by default: on the one-class benchmarks the held-out stop
    ended training too soon (CIFAR-10, seed 0: 64.1 with it, within 100 or 200 epochs;
    65.6 without, within 250).
"""
)
_SHARED_IMAGE = _drop_entries(
    _SHARED, {"n_components", "max_iter", "batch_size", "learning_rate_init", "early_stopping"}
)


class ImageAutoencoder(ConvAutoencoder):
    __doc__ = f"""Autoencoder for image anomaly detection, with the benchmarks' best defaults.

A :class:`ConvAutoencoder` whose defaults are the image model that leads the one-class
benchmarks (train on one class, AUROC of that class against the nine others, mean of 10
classes and 3 seeds; ``python -m benchmarks.images --protocol full --datasets D``):
MNIST 98.6, Fashion-MNIST 94.0, CIFAR-10 67.3, where PCA gets 95.9 / 90.4 / 55.9 and
IsolationForest 86.8 / 91.3 / 60.5 (benchmarks/results/images_full_*.md). The network is
dense: the pixels, one hidden layer of 1,024 units and a code of 32 units (64 above
28 x 28 pixels); the score is the structural error ``1 - SSIM`` of each pixel's
neighbourhood, averaged over the image. Inputs, outputs and methods are those of
:class:`ConvAutoencoder`: per-pixel anomaly maps (``feature_scores``) and reconstructions
shaped like the input.

Parameters
----------
{_IMAGE_PARAMETERS}{_SHARED_IMAGE}
Attributes
----------
{CONV_ATTRIBUTES}{COMMON_ATTRIBUTES}
See Also
--------
ConvAutoencoder : The same estimator with a convolutional network by default.
ConvDenoisingAutoencoder : Restores clean images from corrupted ones.

Examples
--------
>>> from sklearn.datasets import load_digits
>>> from sklearn.metrics import roc_auc_score
>>> from ae_anomaly import ImageAutoencoder
>>> digits = load_digits()
>>> images, labels = digits.images, digits.target  # 8x8 pixels in [0, 16]
>>> model = ImageAutoencoder(random_state=0).fit(images[labels == 0])
>>> model.n_components_, model.hidden_layer_sizes_
(32, (1024,))
>>> auroc = roc_auc_score(labels != 0, -model.score_samples(images))
>>> bool(auroc > 0.9)  # the other digits score as anomalies
True
>>> model.feature_scores(images[:2]).shape  # where each image differs from a zero
(2, 8, 8)
"""

    _parameter_constraints: dict = {
        **ConvAutoencoder._parameter_constraints,
        "max_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    }

    def __init__(
        self,
        *,
        image_shape=None,
        channels=(),
        error="ssim",
        hidden_layer_sizes=(1024,),
        n_components=None,
        activation="relu",
        dropout=0.0,
        scaling="global",
        max_iter="auto",
        batch_size=64,
        learning_rate_init=1e-3,
        alpha=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        contamination="auto",
        device="auto",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            image_shape=image_shape,
            channels=channels,
            error=error,
            hidden_layer_sizes=hidden_layer_sizes,
            n_components=n_components,
            activation=activation,
            dropout=dropout,
            scaling=scaling,
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            alpha=alpha,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            contamination=contamination,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )

    def _default_sizes(self, n_features):
        _, height, width = self.image_shape_
        code = 32 if height * width <= 28 * 28 else 64
        return (1024,), min(code, max(1, n_features - 1))

    def _epochs(self, n_rows):
        """``max_iter``; for "auto", 12 epochs or enough for 1,000 optimizer steps."""
        if self.max_iter != "auto":
            return self.max_iter
        return epoch_budget(n_rows, self._batch_size())
