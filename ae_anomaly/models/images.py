"""Image inputs for the convolutional models: layouts, flattening and back.

The estimators hold images as 2-D rows of flattened pixels in channels-first order, so
that they fit scikit-learn's 2-D world (pipelines, scalers, ``n_features_in_``). This
module maps the accepted input forms to those rows and back:

- ``"flat"``: ``(n, C*H*W)`` rows with a known ``image_shape=(C, H, W)``,
- ``"hw"``: ``(n, H, W)`` grayscale images,
- ``"hwc"``: ``(n, H, W, C)`` channels-last images,
- ``"chw"``: ``(n, C, H, W)`` channels-first images.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from sklearn.preprocessing import MinMaxScaler

from ..nn.training import _caller_outside_package

_CHANNELS = (1, 3, 4)


def _shape_of(X):
    if isinstance(X, np.ndarray) or hasattr(X, "iloc"):  # arrays and pandas objects
        return X.shape
    try:  # lists, array-likes that only implement __array__
        return np.asarray(X).shape
    except (TypeError, ValueError):  # ragged or not numeric: validation will say why
        return ()


def image_layout(X, image_shape=None):
    """The layout of ``X`` and its ``(C, H, W)``, or ``(None, None)`` when ``X`` is not 3-D/4-D.

    Parameters
    ----------
    X : array-like
    image_shape : tuple of 3 int or None
        ``(C, H, W)`` when known; it decides between ``"hwc"`` and ``"chw"`` for 4-D
        arrays, and must match the images given.

    Returns
    -------
    layout : {"hw", "hwc", "chw"} or None
    chw : tuple of 3 int or None

    Examples
    --------
    >>> import numpy as np
    >>> image_layout(np.zeros((5, 32, 32, 3)))
    ('hwc', (3, 32, 32))
    >>> image_layout(np.zeros((5, 28, 28)))
    ('hw', (1, 28, 28))
    """
    shape = _shape_of(X)
    if len(shape) == 3:
        layout, chw = "hw", (1, *shape[1:])
    elif len(shape) == 4:
        a, c = shape[1], shape[3]
        if image_shape is not None and tuple(shape[1:]) == tuple(image_shape):
            layout = "chw"
        elif image_shape is not None and tuple(shape[1:]) == tuple(image_shape)[1:] + (
            image_shape[0],
        ):
            layout = "hwc"
        elif c in _CHANNELS and a not in _CHANNELS:
            layout = "hwc"
        elif a in _CHANNELS and c not in _CHANNELS:
            layout = "chw"
        else:
            raise ValueError(
                f"Cannot tell whether images of shape {shape[1:]} are (H, W, C) or (C, H, W); "
                "pass image_shape=(C, H, W)."
            )
        chw = (c, shape[1], shape[2]) if layout == "hwc" else tuple(shape[1:])
    else:
        return None, None
    if image_shape is not None and tuple(chw) != tuple(image_shape):
        raise ValueError(
            f"Images of shape (C, H, W)={chw} do not match image_shape={tuple(image_shape)}."
        )
    return layout, tuple(int(s) for s in chw)


def flat_image_shape(n_features, image_shape=None):
    """``(C, H, W)`` of rows with ``n_features`` pixels: ``image_shape``, or square grayscale.

    Examples
    --------
    >>> flat_image_shape(784)
    (1, 28, 28)
    >>> flat_image_shape(3072, (3, 32, 32))
    (3, 32, 32)
    """
    if image_shape is not None:
        if math.prod(image_shape) != n_features:
            raise ValueError(
                f"image_shape={tuple(image_shape)} holds {math.prod(image_shape)} pixels, "
                f"but the rows have {n_features} columns."
            )
        return tuple(int(s) for s in image_shape)
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise ValueError(
            f"Cannot read rows of {n_features} columns as images: {n_features} is not a "
            "square number of grayscale pixels. Pass image_shape=(C, H, W), or give the "
            "images as a 3-D (n, H, W) or 4-D (n, H, W, C) / (n, C, H, W) array."
        )
    return (1, side, side)


def to_rows(X, layout):
    """Flatten images of the given layout to ``(n, C*H*W)`` rows in channels-first order."""
    X = np.asarray(X)
    if layout == "hwc":
        X = X.transpose(0, 3, 1, 2)
    # The width spelled out: -1 cannot be inferred for no images (validation says why).
    return X.reshape(X.shape[0], math.prod(X.shape[1:]))


def from_rows(rows, layout, chw):
    """Inverse of :func:`to_rows`: rows back to images of the given layout (or rows)."""
    if layout in (None, "flat"):
        return rows
    images = rows.reshape(rows.shape[0], *chw)
    if layout == "hw":
        return images[:, 0]
    if layout == "hwc":
        return images.transpose(0, 2, 3, 1)
    return images


def global_minmax_scaler(X):
    """A ``MinMaxScaler`` mapping the smallest and largest value of all of ``X`` to 0 and 1.

    Unlike a per-pixel scaler, every pixel gets the same affine map, so a pixel that is
    (nearly) constant in the training images, like an MNIST border, is not blown up.

    Examples
    --------
    >>> import numpy as np
    >>> scaler = global_minmax_scaler(np.array([[0.0, 10.0], [5.0, 255.0]]))
    >>> scaler.transform(np.array([[255.0, 0.0]]))
    array([[1., 0.]])
    """
    X = np.asarray(X, dtype=np.float64)
    n_features = X.shape[1]
    lo, hi = float(X.min()), float(X.max())
    return MinMaxScaler().fit(np.array([np.full(n_features, lo), np.full(n_features, hi)]))


#: Pixels this share of the training range's width beyond it count as beyond it, in
#: :func:`check_pixel_range`'s "most pixels beyond" sign.
SCALE_MARGIN = 0.25


#: Share of the pixels that, lying ``SCALE_MARGIN`` widths below the training minimum
#: with most of their next pixels as far below, gives :func:`check_pixel_range`'s
#: "rescaled" sign.
PATCH_SHARE = 0.1


class ImageScaleWarning(UserWarning):
    """Images given to a fitted model are on another scale than its training images, or
    a few outlying training pixels set the scale of all the others."""


#: :func:`check_training_range` warns when at most this share of the training pixels lies
#: in the upper (or lower) half of their range: the few set the scale of the rest.
OUTLYING_SHARE = 1e-4

#: In a training set too small for ``OUTLYING_SHARE`` to count three pixels (under
#: 30,000 pixels), :func:`check_training_range` also warns when at most this many
#: pixels lie in the upper (or lower) half of the range and the others within
#: ``SQUEEZE`` of its width.
OUTLYING_PIXELS = 3

#: The share of the range's width the other pixels fit in, when at most
#: ``OUTLYING_PIXELS`` outlying ones of a small training set are warned about.
SQUEEZE = 0.1


def check_training_range(rows, name):
    """Warn when a few training pixels set the global min-max scale: one hot pixel of 50
    among [0, 1] images leaves every other pixel within [0, 0.02] once scaled, and the
    scores (the SSIM error above all, meant for pixels spread over [0, 1]) rank anomalies
    far worse, silently.

    Few means a tiny share of the pixels (``OUTLYING_SHARE`` or less) in the upper (or
    lower) half of their range. In a small set (under 30,000 pixels) that share is under
    three pixels; there, up to ``OUTLYING_PIXELS`` pixels in that half count as few
    only when they are clearly hot: the others vary within a tenth of the range's
    width (``SQUEEZE``) or less. One legitimately bright pixel, say 1 among dark images within
    [0, 0.3], is not warned about.

    Examples
    --------
    >>> import warnings
    >>> images = np.random.RandomState(0).uniform(size=(100, 64))
    >>> images[0, 5] = 50.0
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     check_training_range(images, "ConvAutoencoder")
    >>> str(caught[0].message)[:80]
    'ConvAutoencoder: 1 of the 6,400 training pixels (0.016%) lie above 25, half of t'
    """
    lo, hi = float(np.min(rows)), float(np.max(rows))
    if not hi - lo > 0:
        return
    middle = lo + (hi - lo) / 2
    above, below = int(np.count_nonzero(rows > middle)), int(np.count_nonzero(rows < middle))
    if above <= below:
        rest = float(np.max(rows[rows <= middle]))
        count, side, bounds = above, "above", (lo, rest)
    else:
        rest = float(np.min(rows[rows >= middle]))
        count, side, bounds = below, "below", (rest, hi)
    width = bounds[1] - bounds[0]
    hot = count <= OUTLYING_PIXELS and 0 < width <= SQUEEZE * (hi - lo)
    if not (count <= OUTLYING_SHARE * rows.size or hot):
        return
    warnings.warn(
        f"{name}: {count:,} of the {rows.size:,} training pixels "
        f"({100 * count / rows.size:.2g}%) lie {side} {middle:g}, half of their range "
        f"[{lo:g}, {hi:g}]: those few set the global scale (scaling='global'), the others "
        f"(within [{bounds[0]:g}, {bounds[1]:g}]) are squeezed, and scores rank anomalies "
        f"worse. Clip the images, e.g. np.clip(X, {bounds[0]:g}, {bounds[1]:g}), before "
        "fit and scoring, or drop those images.",
        ImageScaleWarning,
        stacklevel=_caller_outside_package(),
    )


def check_pixel_range(rows, scaler, name):
    """Warn when ``rows`` of images to score are on another scale than the training
    images ``scaler`` (:func:`global_minmax_scaler`) saw. Either way the scores are
    meaningless; nothing fails. Four signs, each beyond what noise a denoiser is given
    or an anomalous image on the training scale produces:

    - fractions within [0, 1] for a model trained on values up to 255 or so (divided by
      255 on one side only);
    - a range under a twentieth of the training range's width that reaches below the
      training minimum: 0-255 images rescaled to [-1, 1] or standardised with a mean and
      standard deviation (torchvision's ``Normalize``) on one side only;
    - most pixels a quarter of the training range's width or more below its minimum (or
      above its maximum), or any pixel ten widths beyond it: [-1, 1] images for a model
      trained on [0, 1], 0-255 images for one trained on fractions. Symmetric noise
      about pixels within the training range keeps fewer than half of them beyond
      either bound;
    - a tenth of the pixels or more a quarter-width below the training minimum, in
      patches of shades spread over a quarter-width or more (``PATCH_SHARE``): [0, 1]
      images whose pixels spread over the range, like CIFAR's, rescaled to [-1, 1] or by
      a mean and standard deviation, for a model trained on [0, 1]: only a quarter to two
      fifths of their pixels fall a quarter-width below 0, too few for the sign above.
      A pixel that far below is next to another one as far below more than half the
      time in a rescaled image (its dark regions), less than half the time under
      noise: symmetric noise, independent from pixel to pixel, puts the next pixel that
      far below with a probability under 1/2 whatever that pixel's level within the
      range. Images within the training range (another class,
      brighter or darker) put no pixel there; a dark defect of even shade (a hole, a
      scratch) on images brighter than it spreads over less than a quarter-width.

    What a range cannot show is not warned about: e.g. images within [0, 1] for a model
    trained on [-1, 1], or a rescaled batch of bright images with few pixels below the
    training minimum. False alarms: a batch of near-constant images with faint noise
    around the minimum of a wide training range (taken as a rescaled batch), and noise
    blurred into patches as wide as a quarter of the training range below its minimum.

    Examples
    --------
    >>> import warnings
    >>> scaler = global_minmax_scaler(np.array([[0.0, 255.0]]))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     check_pixel_range(np.array([[0.2, 0.9]]), scaler, "ConvAutoencoder")
    >>> str(caught[0].message)[:80]
    'ConvAutoencoder: these images are fractions within [0, 1], the training images r'
    """
    lo, hi = float(np.min(scaler.data_min_)), float(np.max(scaler.data_max_))
    span = hi - lo
    if not rows.size or not span > 0:
        return
    low, high = float(np.nanmin(rows)), float(np.nanmax(rows))
    training = f"the training images ranged over [{lo:g}, {hi:g}]"
    ranged = f"these images range over [{low:g}, {high:g}], {training}"
    margin = SCALE_MARGIN * span
    beyond = max(np.mean(rows < lo - margin), np.mean(rows > hi + margin))
    if hi >= 10 and 0 <= low and high <= 1 and not np.array_equal(rows, np.round(rows)):
        why = (f"these images are fractions within [0, 1], {training}: divided by {hi:g} on "
               "one side only?")  # fmt: skip
    elif low < lo and high - low < span / 20:
        why = f"{ranged}: rescaled (to [-1, 1], or by a mean and standard deviation)?"
    elif beyond > 0.5:
        why = f"{ranged}, and {beyond:.0%} of the pixels lie beyond it: scaled differently?"
    elif (patches := _share_in_patches(rows < lo - margin, rows, margin)) >= PATCH_SHARE:
        why = (f"{ranged}, and {patches:.0%} of the pixels lie a quarter of its width or "
               "more below it, in patches, not scattered as noise: rescaled (to [-1, 1], "
               "or by a mean and standard deviation)?")  # fmt: skip
    elif high > hi + 10 * span or low < lo - 10 * span:  # not noise: another scale
        why = f"{ranged}: scaled differently?"
    else:
        return
    warnings.warn(
        f"{name}: {why} Scale them as the training images were: scores and reconstructions "
        "of images on another scale mean nothing.",
        ImageScaleWarning,
        stacklevel=_caller_outside_package(),
    )


def _share_in_patches(mask, rows, spread):
    """The share of the pixels in ``mask`` (rows of flattened images), or 0 when most of
    them lie alone (their next pixel in the row, the one to the right but at the end of an
    image row, is in ``mask`` at most half the time), or when their values in ``rows``
    spread over less than ``spread`` (5th to 95th percentile): a dark defect of even
    shade (a hole, a scratch) on images brighter than it, not a rescaled image's dark
    regions, whose shades spread down the new range."""
    first = mask[:, :-1]
    count = np.count_nonzero(first)
    if not count or np.count_nonzero(first & mask[:, 1:]) <= count / 2:
        return 0.0
    low, high = np.percentile(rows[mask], [5, 95])
    return float(np.mean(mask)) if high - low >= spread else 0.0
