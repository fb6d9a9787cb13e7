"""Convolutional autoencoders: input forms, shapes, dtypes, maps (checks: test_estimator_checks)."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from ae_anomaly import (
    ConvAutoencoder,
    ConvDenoisingAutoencoder,
    ConvVariationalAutoencoder,
    ImageAutoencoder,
    load,
    save,
)


def _images(n=48, h=8, w=8, c=None, seed=0):
    """Dark noisy images with a bright bar: uint8, (n, H, W) or (n, H, W, C)."""
    rng = np.random.RandomState(seed)
    shape = (n, h, w) if c is None else (n, h, w, c)
    images = rng.uniform(0, 40, size=shape)
    images[:, 2:4] += 150
    return images.astype(np.uint8)


SMALL = dict(channels=(4, 8), n_components=4, max_iter=3, random_state=0)

FORMS = {
    "hw uint8": lambda: _images(),
    "hwc uint8": lambda: _images(c=3),
    "chw float": lambda: _images(c=3).transpose(0, 3, 1, 2) / 255.0,
    "flat float": lambda: _images(c=3).transpose(0, 3, 1, 2).reshape(48, -1) / 255.0,
}


@pytest.mark.parametrize("form", FORMS)
def test_every_input_form_round_trips(form):
    X = FORMS[form]()
    image_shape = (3, 8, 8) if form == "flat float" else None
    model = ConvAutoencoder(image_shape=image_shape, **SMALL).fit(X)
    assert model.image_shape_ == ((1, 8, 8) if form == "hw uint8" else (3, 8, 8))
    assert model.n_features_in_ == int(np.prod(model.image_shape_))
    rebuilt = model.reconstruct(X[:5])
    assert rebuilt.shape == X[:5].shape and rebuilt.dtype == np.float64
    assert model.transform(X[:5]).shape == (5, 4)
    assert model.inverse_transform(model.transform(X[:5])).shape == X[:5].shape
    maps = model.feature_scores(X[:5])
    assert maps.shape == (5, 8, 8)
    np.testing.assert_allclose(maps.mean(axis=(1, 2)), -model.score_samples(X[:5]))
    assert model.predict(X[:5]).shape == (5,)


def test_layouts_give_the_same_model():
    hwc = _images(c=3)
    chw = hwc.transpose(0, 3, 1, 2)
    flat = chw.reshape(len(chw), -1)
    a = ConvAutoencoder(**SMALL).fit(hwc)
    b = ConvAutoencoder(**SMALL).fit(chw)
    c = ConvAutoencoder(image_shape=(3, 8, 8), **SMALL).fit(flat)
    np.testing.assert_allclose(a.score_samples(hwc), b.score_samples(chw))
    np.testing.assert_allclose(a.score_samples(hwc), c.score_samples(flat))
    # A model fitted on one layout scores the others.
    np.testing.assert_allclose(a.score_samples(chw), a.score_samples(flat))


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_denoise_keeps_shape_dtype_and_units(dtype):
    X = _images(c=3).astype(dtype)
    model = ConvDenoisingAutoencoder(**SMALL).fit(X)
    clean = model.denoise(X[:4])
    assert clean.shape == X[:4].shape
    assert clean.dtype == (np.uint8 if dtype == np.uint8 else np.float64)

    # The input moved towards the reconstruction by denoise_weight_ and clipped, in the
    # input's units and layout; rounded and clipped to the dtype for integer images.
    def layout(per_pixel):
        return model._like(per_pixel[None], X[:1])[0]

    noisy = X[:4].astype(np.float64)
    weight, low, high = map(layout, (model.denoise_weight_, model.denoise_min_, model.denoise_max_))
    expected = np.clip(noisy + weight * (model.reconstruct(X[:4]) - noisy), low, high)
    assert not np.allclose(expected, model.reconstruct(X[:4]))  # a blend, not reconstruct
    if dtype == np.uint8:
        expected = np.clip(np.rint(expected), 0, 255).astype(np.uint8)
    np.testing.assert_allclose(clean.astype(float), expected.astype(float),
                               atol=1e-9 if dtype != np.uint8 else 1)  # fmt: skip


def test_conv_denoiser_learns_to_remove_noise():
    rng = np.random.RandomState(0)
    clean = np.zeros((200, 1, 8, 8))
    clean[:, :, 2:6, 2:6] = rng.uniform(0.5, 1.0, size=(200, 1, 1, 1))  # squares
    model = ConvDenoisingAutoencoder(
        noise_level=0.3, channels=(8,), n_components=8, max_iter=60, batch_size=32,
        random_state=0,
    ).fit(clean)  # fmt: skip
    noisy = clean + 0.3 * rng.standard_normal(clean.shape)
    assert ((model.denoise(noisy) - clean) ** 2).mean() < 0.3 * ((noisy - clean) ** 2).mean()


def test_salt_pepper_noise_is_accepted_and_checked():
    X = _images()
    ConvDenoisingAutoencoder(noise="salt_pepper", noise_level=0.1, **SMALL).fit(X)
    with pytest.raises(ValueError, match="below 1"):
        ConvDenoisingAutoencoder(noise="salt_pepper", noise_level=1.0, **SMALL).fit(X)


def test_error_maps_localize_a_defect():
    X = _images(n=96)
    model = ConvAutoencoder(channels=(8, 16), n_components=8, max_iter=40, random_state=0)
    model.fit(X)
    defect = X[:1].copy()
    defect[0, 5:7, 5:7] = 255  # a bright spot where training images are dark
    maps = model.feature_scores(defect)[0]
    row, col = np.unravel_index(np.argmax(maps), maps.shape)
    assert 4 <= row <= 7 and 4 <= col <= 7
    assert model.score_samples(defect)[0] < model.score_samples(X).min()


def test_vae_samples_and_traversal_come_in_the_training_layout():
    X = _images(c=3)
    vae = ConvVariationalAutoencoder(**SMALL).fit(X)
    assert vae.sample(3, random_state=0).shape == (3, 8, 8, 3)
    assert vae.latent_traversal(X[:1], 0, [-2, 0, 2]).shape == (3, 8, 8, 3)


def test_works_in_a_pipeline_on_flat_rows():
    X = _images().reshape(48, -1)
    pipe = make_pipeline(
        FunctionTransformer(lambda a: a / 255.0), ConvAutoencoder(image_shape=(1, 8, 8), **SMALL)
    )
    assert pipe.fit(X).score_samples(X).shape == (48,)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_denoise_takes_torch_tensors(dtype):
    """denoise read a torch tensor's dtype as a NumPy one and raised "Cannot interpret
    'torch.uint8' as a data type" (score_samples took the tensor); now it answers as for
    the array: the same pixels and dtype (uint8 kept, floats as float64)."""
    torch = pytest.importorskip("torch")
    X = _images().astype(dtype)
    model = ConvDenoisingAutoencoder(**SMALL).fit(X)
    out = model.denoise(torch.from_numpy(X[:4]))
    assert isinstance(out, np.ndarray)
    assert out.dtype == (np.uint8 if dtype == np.uint8 else np.float64)
    np.testing.assert_array_equal(out, model.denoise(X[:4]))


def test_denoise_gives_bool_images_back_as_bool():
    """Binary images (masks, binarised digits) given as bool came back as float64, unlike
    uint8 images, which come back rounded as uint8. Now bool is kept too: True where the
    denoised pixel rounds to 1; floats keep the unrounded pixels."""
    torch = pytest.importorskip("torch")
    X = _images() > 100  # the bright bar
    X[:, :, 6] = True
    model = ConvDenoisingAutoencoder(**SMALL).fit(X)
    noisy = X[:4].copy()
    noisy[:, 0, :4] = True  # salt
    out = model.denoise(noisy)
    assert out.dtype == np.bool_ and out.shape == noisy.shape
    soft = model.denoise(noisy.astype(np.float32))
    assert soft.dtype == np.float64
    np.testing.assert_array_equal(out, np.rint(soft) >= 1)
    np.testing.assert_array_equal(model.denoise(torch.from_numpy(noisy)), out)


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="not a square number"):
        ConvAutoencoder(**SMALL).fit(np.zeros((10, 12)))
    with pytest.raises(ValueError, match="image_shape=.* holds 48 pixels"):
        ConvAutoencoder(image_shape=(3, 4, 4), **SMALL).fit(np.zeros((10, 12)))
    with pytest.raises(ValueError, match="Cannot tell whether"):
        ConvAutoencoder(**SMALL).fit(np.zeros((10, 3, 5, 3)))
    with pytest.raises(ValueError, match="3 positive integers"):
        ConvAutoencoder(image_shape=(8, 8), **SMALL).fit(np.zeros((10, 64)))
    model = ConvAutoencoder(**SMALL).fit(_images())
    with pytest.raises(ValueError, match=r"do not match image_shape=\(1, 8, 8\)"):
        model.score_samples(np.zeros((2, 6, 6)))
    with pytest.raises(ValueError, match=r"one image of shape \(8, 8\).*X\[None\]"):
        model.score_samples(_images()[0])  # read as 8 rows of 8 pixels, it said 8 features
    assert model.score_samples(_images()[:1]).shape == (1,)
    colour = ConvAutoencoder(**SMALL).fit(_images(c=3))
    for one in (_images(c=3)[0], _images(c=3)[0].transpose(2, 0, 1)):
        with pytest.raises(ValueError, match=r"one image of shape .*first axis counts"):
            colour.score_samples(one)


def test_bools_are_not_taken_for_int_parameters():
    """True is an Integral, so image_shape=(True, 8, 8) fit one-channel images,
    hidden_layer_sizes=True a one-unit layer, channels=(True, 4) failed in torch, and
    latent_traversal(x, True, values) set every code unit: a one-line error now."""
    X = _images()
    with pytest.raises(ValueError, match=r"^image_shape must be a tuple of 3 positive "):
        ConvAutoencoder(image_shape=(True, 8, 8), **SMALL).fit(X.reshape(48, -1))
    with pytest.raises(ValueError, match=r"^channels must be a tuple of positive integers, "
                       r"got \(True, 4\)\.$"):  # fmt: skip
        ConvAutoencoder(**{**SMALL, "channels": (True, 4)}).fit(X)
    for hidden in (True, (True,)):
        with pytest.raises(ValueError, match=r"^hidden_layer_sizes must hold positive int"):
            ConvAutoencoder(hidden_layer_sizes=hidden, **SMALL).fit(X)
    vae = ConvVariationalAutoencoder(**SMALL).fit(X)
    for bad in (True, 1.0):
        with pytest.raises(TypeError, match=r"^dim must be an instance of int, not "):
            vae.latent_traversal(X[:1], bad, [0.0, 1.0])
    assert vae.latent_traversal(X[:1], np.int64(1), [0.0, 1.0]).shape == (2, 8, 8)


@pytest.mark.parametrize("cls", [ConvAutoencoder, ImageAutoencoder])
def test_image_shape_in_height_width_channels_order_is_refused(cls):
    """image_shape=(32, 32, 3), the (H, W, C) order of the data, was taken as 32 channels
    of 32 x 3 pixels without a word; now fit says the order and what to pass."""
    X = _images(n=8, h=32, w=32, c=3)
    with pytest.raises(ValueError, match=r"image_shape is \(channels, height, width\): .*"
                       r"pass image_shape=\(3, 32, 32\)\.$"):  # fmt: skip
        cls(image_shape=(32, 32, 3), **SMALL).fit(X)
    with pytest.raises(ValueError, match=r"pass image_shape=\(1, 28, 28\)"):
        cls(image_shape=(28, 28, 1), **SMALL).fit(np.zeros((4, 784)))
    model = cls(image_shape=(3, 32, 32), channels=(4,), max_iter=1, random_state=0).fit(X)
    assert model.image_shape_ == (3, 32, 32) and model.input_layout_ == "hwc"
    narrow = cls(image_shape=(6, 16, 4), channels=(4,), max_iter=1, random_state=0)
    assert narrow.fit(np.zeros((4, 6 * 16 * 4))).image_shape_ == (6, 16, 4)  # not square


def test_empty_image_batches_are_named():
    """No images, (0, H, W) or (0, H, W, C), gave NumPy's "cannot reshape array of size
    0"; now fit and every scoring method say there are 0 samples, as for empty rows."""
    empty = "Found array with 0 sample\\(s\\)"
    with pytest.raises(ValueError, match=empty):
        ConvAutoencoder(**SMALL).fit(np.zeros((0, 8, 8)))
    with pytest.raises(ValueError, match=empty):
        ConvAutoencoder(**SMALL).fit(np.zeros((0, 8, 8, 3)))
    model = ConvDenoisingAutoencoder(**SMALL).fit(_images(c=3))
    for method in ("score_samples", "feature_scores", "reconstruct", "transform", "denoise"):
        with pytest.raises(ValueError, match=empty):
            getattr(model, method)(np.zeros((0, 8, 8, 3), dtype=np.uint8))


def test_non_finite_pixels_are_named_by_image_and_pixel():
    """A NaN pixel was reported as "row 2, column 101" of the flattened rows, with a
    tabular imputer's advice; now the message names the image and (channel, y, x), in
    every input layout, at fit and at scoring."""
    images = _images(c=3).astype(float)
    model = ConvAutoencoder(**SMALL).fit(images)
    hwc = images[:5].copy()
    hwc[2, 3, 6, 1] = np.nan  # image 2, y 3, x 6, channel 1
    where = r"^Image 2 has a NaN pixel at \(channel, y, x\)=\(1, 3, 6\) \(1 non-finite"
    chw = hwc.transpose(0, 3, 1, 2)
    for X in (hwc, chw, chw.reshape(5, -1)):
        with pytest.raises(ValueError, match=where) as caught:
            model.score_samples(X)
        assert "Imputer" not in str(caught.value) and "\n" not in str(caught.value)
    gray = images[..., 0].copy()
    gray[7, 0, 5] = -np.inf
    with pytest.raises(ValueError, match=r"^Image 7 has an infinite pixel at .*=\(0, 0, 5\)"):
        ConvAutoencoder(**SMALL).fit(gray)


def test_images_on_another_scale_than_training_are_warned_about():
    """A model trained on 0-255 pixels and given images divided by 255 (or the reverse)
    scores without an error and means nothing: a warning says so. Images on the
    training scale, a black image and noise a denoiser is given are not warned about."""
    import warnings

    from ae_anomaly.models.images import ImageScaleWarning

    images = _images()
    model = ConvAutoencoder(**SMALL).fit(images)
    with pytest.warns(
        ImageScaleWarning,
        match=r"fractions within \[0, 1\], the training "
        r"images ranged over \[0, 1\d\d\]: divided by 1\d\d on one side",
    ):
        model.score_samples(images / 255.0)
    fractions = ConvAutoencoder(**SMALL).fit(images / 255.0)
    with pytest.warns(ImageScaleWarning, match=r"range over \[0, 1\d\d\]"):
        fractions.score_samples(images)
    noisy = images / 255.0 + np.random.RandomState(1).normal(0, 0.3, images.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImageScaleWarning)
        model.score_samples(images[:5])
        model.score_samples(np.zeros((2, 8, 8)))
        fractions.score_samples(noisy)
        ConvDenoisingAutoencoder(**SMALL).fit(images / 255.0).denoise(noisy)


@pytest.mark.parametrize(
    "rescale",
    [lambda x: x / 127.5 - 1, lambda x: (x / 255 - 0.1307) / 0.3081],
    ids=["[-1, 1]", "torchvision Normalize"],
)
def test_images_rescaled_on_one_side_only_are_warned_about(rescale):
    """0-255 training images, images to score rescaled to [-1, 1] or by a mean and
    standard deviation: every image was flagged, without a word. Now a warning says so,
    as it does for a model trained on fractions and given [-1, 1] images."""
    from ae_anomaly.models.images import ImageScaleWarning

    images = _images()
    model = ConvAutoencoder(**SMALL).fit(images)
    with pytest.warns(ImageScaleWarning, match=r"rescaled \(to \[-1, 1\], or by a mean"):
        model.score_samples(rescale(images.astype(float)))
    fractions = ConvAutoencoder(**SMALL).fit(images / 255.0)
    with pytest.warns(ImageScaleWarning, match=r"of the pixels lie beyond it"):
        fractions.score_samples(images / 127.5 - 1)


def _smooth_images(n=48, size=12, seed=0):
    """Smooth float images spread over [0, 1] (like CIFAR's, unlike MNIST's black
    background): sums of two waves of random direction and phase, min-max scaled."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[:size, :size] / size
    waves = [np.sin(2 * np.pi * (rng.uniform(-1, 1) * x + rng.uniform(-1, 1) * y)
                    + rng.uniform(0, 2 * np.pi)) for _ in range(2 * n)]  # fmt: skip
    images = np.add(waves[::2], waves[1::2])
    lo, hi = images.min(axis=(1, 2), keepdims=True), images.max(axis=(1, 2), keepdims=True)
    return (images - lo) / (hi - lo)


def test_images_spread_over_the_range_rescaled_to_minus_one_one_are_warned_about():
    """A model trained on [0, 1] images spread over the range (CIFAR's, not MNIST's mostly
    black ones) and scored on the same images rescaled to [-1, 1]: under half of the
    pixels fell a quarter-width below 0, and no warning came. Now pixels that far below in
    patches warn; other images on the training scale (brighter, darker, noisy, with a few
    hot pixels) do not."""
    import warnings

    from ae_anomaly.models.images import ImageScaleWarning

    images = _smooth_images()
    model = ConvAutoencoder(**SMALL).fit(images)
    rescaled = images * 2 - 1
    assert np.mean(rescaled < -0.25) < 0.5  # too few for the "most pixels beyond" sign
    with pytest.warns(ImageScaleWarning, match=r"range over \[-1, 1\], .* of the pixels "
                      r"lie a quarter of its width or more below it, in patches"):  # fmt: skip
        model.score_samples(rescaled)
    with pytest.warns(ImageScaleWarning, match=r"in patches"):
        model.score_samples((images - images.mean()) / images.std())  # mean and std
    rng = np.random.RandomState(1)
    other = _smooth_images(seed=2)
    hot = other.copy()
    hot[rng.randint(48, size=3), rng.randint(12, size=3), rng.randint(12, size=3)] = 5.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImageScaleWarning)
        for batch in (other, other * 0.5, 0.5 + 0.5 * other, hot, other[:1]):
            model.score_samples(batch)
        for sigma in (0.3, 0.5, 1.0):  # noise a denoiser is given: scattered, not patches
            model.score_samples(other + rng.normal(0, sigma, other.shape))


def test_a_dark_defect_of_even_shade_is_not_taken_for_rescaled_images():
    """A hole or scratch darker than anything in training (bright images within [0.4, 1])
    covering 14% of each image, in one patch: the patches rule took it for a rescale and
    advised rescaling; such defects are what the model is for. Its shades spread over less
    than a quarter of the training width; a rescaled batch's do not."""
    import warnings

    from ae_anomaly.models.images import ImageScaleWarning, check_pixel_range, global_minmax_scaler

    rng = np.random.RandomState(0)
    scaler = global_minmax_scaler(0.4 + 0.6 * rng.uniform(size=(200, 256)))
    defects = 0.4 + 0.6 * rng.uniform(size=(5, 16, 16))
    defects[:, 4:10, 4:10] = 0.0  # a hole
    textured = defects.copy()
    textured[:, 4:10, 4:10] = rng.uniform(0, 0.1, size=(5, 6, 6))  # a scratch with texture
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImageScaleWarning)
        for batch in (defects, textured):
            check_pixel_range(batch.reshape(5, -1), scaler, "ConvAutoencoder")
    shaded = _smooth_images()[:5].reshape(5, -1)  # spread over [0, 1]
    trained = global_minmax_scaler(shaded)
    with pytest.warns(ImageScaleWarning, match="in patches"):
        check_pixel_range(shaded * 2 - 1, trained, "ConvAutoencoder")


def test_real_test_images_are_not_warned_about_scale(shared_dir):
    """Test images of MNIST and Fashion-MNIST (shifted by 4 pixels too, and with noise a
    denoiser is given) on the training scale raise no ImageScaleWarning; rescaled ones do."""
    import warnings

    from ae_anomaly.models.images import (
        ImageScaleWarning,
        check_pixel_range,
        global_minmax_scaler,
    )

    rng = np.random.RandomState(0)
    for name in ("mnist", "fashion_mnist"):
        path = shared_dir / "data" / "images" / f"{name}.npz"
        if not path.is_file():
            pytest.skip(f"{path} not found")
        data = np.load(path)
        X, y, test = data["X"], data["y"], data["is_test"].astype(bool)
        for cls in (0, 1, None):
            train = X[~test & ((y == cls) if cls is not None else True)][:500]
            rows = X[test][rng.choice(test.sum(), 500, replace=False)]
            scaler = global_minmax_scaler(train.reshape(len(train), -1))
            fractions = global_minmax_scaler(train.reshape(len(train), -1) / 255.0)
            noisy = rows / 255.0 + rng.normal(0, 0.3, rows.shape)
            with warnings.catch_warnings():
                warnings.simplefilter("error", ImageScaleWarning)
                for batch in (rows, np.roll(rows, 4, axis=2), rows[:1]):
                    check_pixel_range(batch.reshape(len(batch), -1), scaler, name)
                check_pixel_range(noisy.reshape(len(noisy), -1), fractions, name)
            with pytest.warns(ImageScaleWarning):
                check_pixel_range(rows.reshape(len(rows), -1) / 127.5 - 1, scaler, name)


def test_real_cifar_images_rescaled_to_minus_one_one_are_warned_about(shared_dir):
    """CIFAR-10 test images for a model trained on one class in [0, 1]: rescaled to [-1, 1]
    or by the mean and standard deviation they warn; other classes, brighter, darker and
    noisy ones on the training scale do not."""
    import warnings

    from ae_anomaly.models.images import (
        ImageScaleWarning,
        check_pixel_range,
        global_minmax_scaler,
    )

    path = shared_dir / "data" / "images" / "cifar10_jpeg_subset.npz"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    data = np.load(path)
    X, y, test = data["X"] / 255.0, data["y"], data["is_test"].astype(bool)
    rng = np.random.RandomState(0)

    def rows(images):  # as the models flatten them: channels first
        return images.transpose(0, 3, 1, 2).reshape(len(images), -1)

    for cls in (0, 3):
        scaler = global_minmax_scaler(rows(X[~test & (y == cls)][:500]))
        batch = X[test][rng.choice(test.sum(), 500, replace=False)]
        for rescaled in (batch * 2 - 1, (batch - batch.mean()) / batch.std()):
            with pytest.warns(ImageScaleWarning, match="in patches"):
                check_pixel_range(rows(rescaled), scaler, "cifar")
        other = X[test & (y != cls)][:500]
        noisy = [other + rng.normal(0, sigma, other.shape) for sigma in (0.3, 0.5)]
        with warnings.catch_warnings():
            warnings.simplefilter("error", ImageScaleWarning)
            for images in (other, other * 0.5, 0.5 + 0.5 * other, *noisy):
                check_pixel_range(rows(images), scaler, "cifar")


def test_a_few_outlying_training_pixels_setting_the_scale_are_warned_about():
    """One hot pixel (50 among [0, 1] images) set the global min-max scale and squeezed
    every other pixel into [0, 0.02]: scores ranked anomalies far worse, silently. Now
    fit warns and names the clip; ordinary training images are not warned about."""
    import warnings

    from ae_anomaly.models.images import ImageScaleWarning

    images = _images() / 255.0
    hot = images.copy()
    hot[0, 4, 4] = 50.0
    with pytest.warns(ImageScaleWarning, match=r"1 of the 3,072 training pixels .* lie "
                      r"above 25, .* np\.clip\(X, 0, 0\.\d+\)"):  # fmt: skip
        ConvAutoencoder(**SMALL).fit(hot)
    cold = images.copy()
    cold[3, 0, 0] = -40.0
    with pytest.warns(ImageScaleWarning, match=r"lie below -19\.\d+, .*np\.clip\(X, 0, "):
        ConvAutoencoder(**SMALL).fit(cold)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImageScaleWarning)
        ConvAutoencoder(**SMALL).fit(images)
        ConvAutoencoder(**SMALL).fit(_images(c=3))
        ConvAutoencoder(scaling="minmax", **SMALL).fit(hot)  # per pixel: its own scale


def test_one_bright_pixel_of_a_small_training_set_is_not_taken_for_a_hot_one():
    """Under 10,000 training pixels the "tiny share" of pixels in the upper half of the
    range was a single pixel: a small set of dark images with one legitimately bright
    pixel (1.0 among pixels within [0, 0.3]) warned. Now a small set warns only when its
    few outlying pixels squeeze the others into a tenth of the range: hot pixels still
    warn, one or a few."""
    import warnings

    from ae_anomaly.models.images import ImageScaleWarning

    dark = np.random.RandomState(0).uniform(0, 0.3, size=(6, 8, 8))
    bright = dark.copy()
    bright[1, 3, 3] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImageScaleWarning)
        ConvAutoencoder(**SMALL).fit(bright)
    for n_hot in (1, 3):
        hot = dark.copy()
        hot[np.arange(n_hot), 3, 3] = 50.0
        with pytest.warns(ImageScaleWarning, match=rf"^ConvAutoencoder: {n_hot} of the 384 "
                          r"training pixels .* lie above 25"):  # fmt: skip
            ConvAutoencoder(**SMALL).fit(hot)


def test_model_file_round_trip(tmp_path):
    X = _images(c=3)
    model = ConvVariationalAutoencoder(**SMALL).fit(X)
    save(model, tmp_path / "conv.skops")
    loaded = load(tmp_path / "conv.skops")
    np.testing.assert_allclose(loaded.score_samples(X), model.score_samples(X))
    assert loaded.reconstruct(X[:2]).shape == (2, 8, 8, 3)


@pytest.mark.parametrize(
    "cls", [ConvAutoencoder, ConvDenoisingAutoencoder, ConvVariationalAutoencoder]
)
def test_no_score_statistics_parameter(cls):
    # images score with the plain per-pixel error: the parameter would do nothing
    assert "score_statistics" not in cls().get_params()
    assert "score_statistics :" not in cls.__doc__
    model = cls(channels=(2,), max_iter=1, random_state=0).fit(np.random.RandomState(0).rand(8, 16))
    assert model.error_scale_ is None and model.image_shape_ == (1, 4, 4)


def test_error_ssim_or_squared():
    import torch

    from ae_anomaly.nn.losses import structural_error

    X = _images(c=3)
    ssim = ConvAutoencoder(**SMALL).fit(X)
    squared = ConvAutoencoder(error="squared", **SMALL).fit(X)
    # the same network (the error changes the score, not the training)
    np.testing.assert_allclose(ssim.reconstruct(X[:4]), squared.reconstruct(X[:4]))
    scaled = X[:4].astype(float) / X.max()  # "global" scaling of this training set
    rebuilt = squared.reconstruct(X[:4]).astype(float) / X.max()
    np.testing.assert_allclose(
        squared.feature_scores(X[:4]), ((rebuilt - scaled) ** 2).mean(axis=3), rtol=1e-5, atol=1e-9
    )
    maps = ssim.feature_scores(X[:4])
    assert maps.shape == (4, 8, 8) and (maps >= 0).all() and (maps <= 2).all()
    np.testing.assert_allclose(maps.mean(axis=(1, 2)), -ssim.score_samples(X[:4]))
    with pytest.raises(ValueError, match="error"):
        ConvAutoencoder(error="l1", **SMALL).fit(X)
    # SSIM ignores a change of contrast that the squared error sees: a faint copy of an
    # image is structurally the image; a shuffled one is not
    x = torch.rand(1, 64, generator=torch.Generator().manual_seed(0))
    faint = 0.8 * x + 0.1  # contrast term 2 * 0.8 / (1 + 0.64): error about 0.025
    shuffled = x[:, torch.randperm(64, generator=torch.Generator().manual_seed(1))]
    assert structural_error(faint, x, (1, 8, 8)).mean() < 0.05
    assert ((faint - x) ** 2).mean() > 0.001  # while the squared error is not small
    assert structural_error(shuffled, x, (1, 8, 8)).mean() > 0.6


def test_image_autoencoder_defaults_budget_and_quality():
    """ImageAutoencoder: the benchmark setting as defaults; "auto" = 12 epochs or 1,000 steps."""
    from sklearn.datasets import load_digits
    from sklearn.metrics import roc_auc_score

    from ae_anomaly import ImageAutoencoder
    from ae_anomaly.models.image_autoencoder import AUTO_EPOCHS, AUTO_STEPS

    model = ImageAutoencoder()
    assert isinstance(model, ConvAutoencoder) and model.max_iter == "auto"
    # the epoch budget for n images in batches of 64
    assert model._epochs(6000) == AUTO_EPOCHS == 12  # 94 steps an epoch: 12 epochs
    assert model._epochs(500) == 125 and model._epochs(64) == AUTO_STEPS
    assert model.set_params(max_iter=7)._epochs(500) == 7  # an int is a plain budget
    # code 32 up to 28 x 28 pixels, 64 above, kept below the number of pixel values
    sizes = {}
    for side in (4, 28, 32):
        fitted = ImageAutoencoder(max_iter=1, random_state=0).fit(_images(n=8, h=side, w=side))
        sizes[side] = fitted.n_components_
    assert sizes == {4: 15, 28: 32, 32: 64}

    digits = load_digits()
    zeros = digits.images[digits.target == 0]  # 178 images: 3 batches, <= 334 epochs
    model = ImageAutoencoder(random_state=0).fit(zeros)
    assert model.hidden_layer_sizes_ == (1024,) and model.validation_loss_curve_ is None
    assert 12 <= model.n_iter_ <= 334  # the loss-plateau stop ends it before the budget
    auroc = roc_auc_score(digits.target != 0, -model.score_samples(digits.images))
    assert auroc > 0.97  # one-class digits: the other nine digits score as anomalies
    # same seed, same scores
    again = ImageAutoencoder(random_state=0).fit(zeros)
    np.testing.assert_array_equal(again.score_samples(zeros), model.score_samples(zeros))


def test_image_autoencoder_budget_streams():
    """fit_chunks counts the streamed rows for max_iter="auto"."""
    from ae_anomaly import ImageAutoencoder, fit_chunks

    images = _images(n=640).reshape(640, -1) / 255.0
    model = fit_chunks(ImageAutoencoder(hidden_layer_sizes=(8,), n_components=4,
                                        n_iter_no_change=10_000, random_state=0),
                       images, chunksize=320)  # fmt: skip
    assert model.n_iter_ == 100  # 640 rows, batches of 64: 100 epochs for 1,000 steps
