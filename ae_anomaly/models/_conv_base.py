"""What the convolutional estimators share: image inputs, a conv network, image outputs."""

import numpy as np
import torch
from sklearn.preprocessing import MinMaxScaler

from ..nn.conv_nets import conv_autoencoder
from ..nn.losses import structural_error
from ._docs import COMMON_PARAMETERS
from ._sklearn_compat import StrOptions
from ._validation import default_sizes, is_int, row_label
from .images import (
    _CHANNELS,
    check_pixel_range,
    check_training_range,
    flat_image_shape,
    from_rows,
    global_minmax_scaler,
    image_layout,
    to_rows,
)


def _drop_entries(doc, names):
    """Remove the numpydoc entries ``names`` from a parameter block."""
    kept, skip = [], False
    for line in doc.splitlines(keepends=True):
        if line and not line[0].isspace():
            skip = line.split(" :")[0] in names
        if not skip:
            kept.append(line)
    return "".join(kept)


CONV_PARAMETERS = """\
image_shape : tuple of 3 int or None, default=None
    ``(C, H, W)`` of the images. Needed for 2-D input of flattened pixels (channels
    first), unless the rows are square grayscale images; 3-D ``(n, H, W)`` and 4-D
    ``(n, H, W, C)`` or ``(n, C, H, W)`` arrays carry their own shape. Channels first
    whatever the input's layout: ``(3, 32, 32)`` for ``(n, 32, 32, 3)`` images (fit
    refuses ``(32, 32, 3)``, read as 32 channels of 32 x 3 pixels).
channels : tuple of int, default=(32, 64)
    Output channels of the encoder's 3x3 stride-2 convolutions (each halves H and W;
    images are zero-padded to a multiple of ``2 ** len(channels)``). The decoder mirrors
    them with 4x4 stride-2 transposed convolutions.
error : {"ssim", "squared"}, default="ssim"
    The anomaly error of a pixel (its mean over the image is the negated
    :meth:`score_samples`; the maps are :meth:`feature_scores`): "ssim" is the structural
    error ``1 - SSIM`` of a 7x7 window around the pixel (local means, contrasts and
    correlation of the image and its reconstruction, constants for pixels in [0, 1]:
    meant for the default "global" scaling), "squared" the squared difference. On the
    one-class benchmarks "ssim" ranks anomalies far better (benchmarks/results/
    images_levers.md): the squared error mostly measures how many pixels an image lights
    up. Training minimises the squared error either way. SSIM compares local structure
    and is insensitive to what carries none: on images of pure noise or texture, or
    against a plain change of brightness (a blank, saturated image), "squared" can be
    the better score.
hidden_layer_sizes : tuple of int or None, default=None
    Widths of dense layers between the flattened convolutional features and the code
    (mirrored in the decoder). None means none.
scaling : {"global", "standard", "robust", "minmax"} or None, default="global"
    "global" maps the smallest and largest pixel value of the training images to 0 and
    1 (e.g. divides uint8 images by 255), the same map for every pixel (fit warns,
    ``ImageScaleWarning``, when a few outlying pixels set that range: clip them); the
    others are the per-pixel scalers of the MLP models.
"""
#: The image models score with the plain per-pixel error: no ``score_statistics``.
_SHARED = _drop_entries(COMMON_PARAMETERS, {"hidden_layer_sizes", "scaling", "score_statistics"})

CONV_ATTRIBUTES = """\
image_shape_ : tuple of 3 int
    ``(C, H, W)`` of the training images.
input_layout_ : {"flat", "hw", "hwc", "chw"}
    The layout of the training input; :meth:`inverse_transform` returns that layout.
"""


class _ConvMixin:
    """Image inputs and a convolutional network for an autoencoder estimator."""

    _conv_constraints: dict = {
        "image_shape": [None, tuple],
        "channels": [tuple],
        "error": [StrOptions({"ssim", "squared"})],
        "scaling": [StrOptions({"global", "standard", "robust", "minmax"}), None],
    }
    _net = staticmethod(conv_autoencoder)
    #: Images keep the plain per-pixel reconstruction error (per-pixel anomaly maps).
    _error_statistics = False
    _auto_batch_size = 256

    # --------------------------------------------------------------- template hooks
    def _validate_input(self, X, *, reset):
        if reset:
            _check_int_tuple("image_shape", self.image_shape, length=3)
            _check_channels_first(self.image_shape)
            _check_int_tuple("channels", self.channels)
        if not reset:
            _check_not_one_image(X, self.image_shape_)
        layout, chw = image_layout(X, self.image_shape if reset else self.image_shape_)
        if layout is not None:
            X = to_rows(X, layout)
        _check_finite_pixels(X, chw or (None if reset else self.image_shape_), self.image_shape)
        rows = super()._validate_input(X, reset=reset)
        if not reset and isinstance(getattr(self, "scaler_", None), MinMaxScaler):
            check_pixel_range(rows, self.scaler_, type(self).__name__)
        return rows

    def _set_input_attributes(self, X, rows):
        layout, chw = image_layout(X, self.image_shape)
        self.image_shape_ = chw or flat_image_shape(rows.shape[1], self.image_shape)
        self.input_layout_ = layout or "flat"

    def _default_sizes(self, n_features):
        return (), default_sizes(n_features)[1]

    def _make_scaler(self, X):
        if self.scaling == "global":
            check_training_range(X, type(self).__name__)
            return global_minmax_scaler(X)
        return super()._make_scaler(X)

    def _build_module(self, n_features):
        return self._net(
            self.image_shape_,
            tuple(self.channels),
            self.hidden_layer_sizes_,
            self.n_components_,
            activation=self.activation,
            dropout=self.dropout,
        )

    def _error_parts(self, module, X):
        """Per-pixel errors of scaled images (``error``) and a zero code distance."""
        if self.error == "squared":
            return super()._error_parts(module, X)
        errors = structural_error(module(X), X, self.image_shape_)
        return errors, torch.zeros(X.shape[0], dtype=X.dtype, device=X.device)

    # --------------------------------------------------------------- image outputs
    def _pandas_output(self, values, X=None):
        return values  # images stay images, whatever set_output says

    def _decoded_output(self, decoded, values, dim):
        return decoded  # images, in the training input's layout

    def _like(self, rows, X):
        """``rows`` in the layout of the input ``X``."""
        layout, _ = image_layout(X, self.image_shape_)
        return from_rows(rows, layout, self.image_shape_)

    def reconstruct(self, X):
        """Reconstruct images through the autoencoder, in the input's layout and units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or an array of images

        Returns
        -------
        X_hat : ndarray of float, shaped like ``X``
        """
        return self._like(super().reconstruct(X), X)

    def inverse_transform(self, X):
        """Decode codes to images, in the training input's layout and units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components_)

        Returns
        -------
        images : ndarray
            Shaped like the training input: rows, ``(n, H, W)``, ``(n, H, W, C)`` or
            ``(n, C, H, W)``.
        """
        return from_rows(super().inverse_transform(X), self.input_layout_, self.image_shape_)

    def feature_scores(self, X):
        """Per-pixel anomaly errors (parameter ``error``, after scaling): anomaly maps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or an array of images

        Returns
        -------
        maps : ndarray of shape (n_samples, H, W)
            Errors averaged over the channels. Each map's mean is the negated
            :meth:`score_samples`.
        """
        errors = np.asarray(super().feature_scores(X))
        return errors.reshape(-1, *self.image_shape_).mean(axis=1)


def _check_not_one_image(X, image_shape):
    """Refuse one image given where a batch is expected: ``(H, W)`` grayscale pixels would
    be read as H rows of W pixels (or ``(H, W, C)`` as H images)."""
    shape = getattr(X, "shape", None)
    channels, height, width = image_shape
    one = [(height, width)] if height > 1 else []  # (1, W): one flattened 1-px-high image
    if channels > 1:
        one = [(height, width, channels), (channels, height, width)]
    if shape is not None and tuple(shape) in one:
        raise ValueError(
            f"Got one image of shape {tuple(shape)}: give a batch of images, e.g. X[None] "
            f"(shape {(1, *shape)}): the first axis counts the images."
        )


def _check_channels_first(image_shape):
    """Refuse an ``image_shape`` given as ``(H, W, C)``: ``(32, 32, 3)`` would be read as 32
    channels of 32 x 3 pixels, silently. Only square images are taken for that: as many
    channels as rows, then 1, 3 or 4 columns (``(12, 64, 1)``, 12 channels of 64 x 1
    pixels, stays what it says)."""
    if image_shape is None:
        return
    channels, height, width = image_shape
    if channels > max(_CHANNELS) and channels == height and width in _CHANNELS:
        raise ValueError(
            f"image_shape={tuple(image_shape)} reads as {channels} channels of {height} x "
            f"{width} pixels; image_shape is (channels, height, width): for {channels} x "
            f"{height} images of {width} channel(s) pass image_shape="
            f"{(width, channels, height)}."
        )


def _check_finite_pixels(rows, chw, image_shape):
    """Refuse a NaN or infinite pixel naming the image and the pixel ``(channel, y, x)``
    (the rows' validation would name a flattened "column" and advise a tabular imputer).
    ``rows``: images flattened channels first; ``chw`` their shape, when known."""
    try:
        values = np.asarray(rows)
        if chw is None:  # flat rows at fit: image_shape, or square grayscale
            chw = flat_image_shape(values.shape[1], image_shape)
    except (TypeError, ValueError, IndexError):  # not numeric, not 2-D: validation says
        return
    if values.dtype.kind not in "fc" or values.ndim != 2 or values.shape[1] != np.prod(chw):
        return
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    image, column = np.argwhere(bad)[0]
    channel, y, x = np.unravel_index(column, chw)
    kind = "a NaN" if np.isnan(values[image, column]) else "an infinite"
    raise ValueError(
        f"Image {row_label(rows, image)} has {kind} pixel at (channel, y, x)="
        f"({channel}, {y}, {x}) ({int(bad.sum())} non-finite pixel(s) in all). Replace "
        "them (e.g. by a neighbour's value) or drop those images first."
    )


def _check_int_tuple(name, value, length=None):
    if value is None and length is not None:
        return
    ok = all(is_int(v) and v > 0 for v in value)
    if not ok or (length is not None and len(value) != length):
        what = f"{length} positive integers" if length else "positive integers"
        raise ValueError(f"{name} must be a tuple of {what}, got {value!r}.")


def _numpy_dtype(X):
    """The NumPy dtype of ``X`` (also of torch tensors and other array-likes with a
    ``dtype`` NumPy cannot interpret), or None when it has none."""
    dtype = getattr(X, "dtype", None)
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError:  # e.g. torch.uint8: the dtype of the array NumPy makes of it
        return np.asarray(X[:0]).dtype


def _denoise(model, X):
    """Denoised images shaped like ``X``: rounded in ``X``'s dtype when it is an integer
    or bool one (bool: True where the pixel rounds to 1), else float64."""
    out = model._like(model._denoised(X), X)
    dtype = _numpy_dtype(X)
    if dtype == np.bool_:
        return np.rint(out) >= 1
    if dtype is not None and np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        out = np.clip(np.rint(out), info.min, info.max).astype(dtype)
    return out
