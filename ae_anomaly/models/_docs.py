"""Docstring fragments shared by the estimators (one text, many classes)."""

COMMON_PARAMETERS = """\
hidden_layer_sizes : tuple of int or None, default=None
    Widths of the encoder's hidden layers between the input and the code; the decoder
    mirrors them. ``()`` gives a shallow (single code layer) autoencoder. None sizes
    the network from ``n_features``: one hidden layer of ``n_features // 2`` units,
    clipped to [64, 256].
n_components : int or None, default=None
    Size of the code (bottleneck), as in PCA. None uses ``ceil(sqrt(n_features))``,
    kept below ``n_features``.
activation : {"relu", "tanh", "logistic", "identity", "gelu"}, default="relu"
    Activation after every hidden layer (the code and output layers are linear).
dropout : float in [0, 1), default=0.0
    Dropout rate after every hidden layer, active only while training.
scaling : {"standard", "robust", "mad", "minmax"} or None, default="standard"
    How inputs are scaled inside the estimator before the network sees them
    (``StandardScaler``, ``RobustScaler``, :class:`~ae_anomaly.MADScaler`:
    median and MAD, at least 0.1 x the standard deviation, or ``MinMaxScaler``); None
    feeds raw values.
    Reconstruction errors, and so scores, are measured in the scaled space.
max_iter : int, default=20
    Maximum number of epochs (100 for the convolutional models). The short default
    budget is deliberate: on training data holding unlabeled outliers, a network
    trained for long learns to reconstruct them too (measured in benchmarks/README.md),
    so reaching it is no failure: a fit at the default budget warns
    (``ConvergenceWarning``) only when the monitored loss is still clearly falling (each
    of its last 3 epochs more than 1% lower, and still above half its first epoch's);
    a ``max_iter`` you set warns whenever it is reached before early stopping. A loss
    that becomes non-finite or rises above 1,000 times the untrained network's raises
    ``TrainingDivergedError``.
batch_size : int or "auto", default="auto"
    Mini-batch size; "auto" is 1024 (256 for the convolutional models). Smaller
    datasets train with one (partial) batch.
learning_rate_init : float, default=1e-2
    Adam's learning rate (1e-3 for the convolutional models).
alpha : float, default=0.0
    L2 penalty (Adam's weight decay).
early_stopping : bool, default=True
    Hold out ``validation_fraction`` of the rows, stop when their reconstruction
    error stops improving, and restore the best weights. If False, stop when the
    training loss stops improving.
validation_fraction : float in (0, 1), default=0.1
    Share of the training rows held out for early stopping.
n_iter_no_change : int, default=10
    Epochs without an improvement of at least ``tol`` before stopping.
tol : float, default=1e-4
    Minimum improvement of the monitored loss.
contamination : "auto" or float in (0, 0.5], default="auto"
    Sets ``offset_``, the threshold used by ``predict``. A float is the expected share
    of outliers: ``offset_`` is that quantile of the training scores. "auto" makes no
    assumption on that share and applies Tukey's boxplot rule to the reconstruction
    errors of the training rows: a row is an outlier when its error exceeds
    Q3 + 1.5 IQR. For normally distributed errors this flags 0.7% of clean rows, for
    exponentially distributed ones about 5%. On ADBench's 36 tabular sets (held-out rows,
    3 seeds) it flags 9.6% of the rows where 12.0% are anomalies on average (the real
    share ranges from 0.03% to 40%), with a recall of 0.40 (``Autoencoder``) and 0.41
    (``EnsembleAutoencoder``) at a false-positive rate of 0.07; IsolationForest's "auto"
    flags 18% (recall 0.55, false-positive rate 0.14). No rule tried (Tukey's 3 IQR, the
    skew-adjusted boxplot, a fixed 5% or 10%) flagged closer to the real share by more
    than 0.005 on the fold it was not chosen on (``benchmarks/results/adbench.md``).
score_statistics : {"median", "mean"}, default="median"
    Statistics of the training rows that standardize the two parts of the anomaly
    error (see ``score_samples``). "median": each column's median squared
    reconstruction error, each code unit's median and MAD (its standard deviation when
    the MAD is 0, as for a sparse code), then each part rescaled to
    median 1 over the training rows; the unlabeled outliers of the training data barely
    move them. "mean": the mean squared error, the mean and the variance (each part
    then averages about 1 over the training rows).
device : {"auto", "cpu", "cuda"}, default="auto"
    Where the network runs; "auto" picks CUDA when available. Resolved in ``fit``.
random_state : int, RandomState instance or None, default=None
    Seeds weight initialization, shuffling, dropout, noise and the validation split.
    An int gives identical results from fit to fit on the CPU.
verbose : int, default=0
    If > 0, show a progress bar (epoch, loss, validation loss) on stderr when it is a
    terminal.
"""

COMMON_ATTRIBUTES = """\
module_ : torch.nn.Module
    The trained network (see :mod:`ae_anomaly.nn.nets`).
scaler_ : StandardScaler, RobustScaler, MADScaler, MinMaxScaler or None
    The fitted input scaler.
offset_ : float
    Threshold on ``score_samples``: ``decision_function = score_samples - offset_``.
error_scale_ : ndarray of shape (n_features_in_,)
    Median (``score_statistics="mean"``: mean) squared reconstruction error of each
    (scaled) column on the training rows, floored (and, for "median", rescaled so that
    the reconstruction part has median 1 on them): divides that column's error in
    ``score_samples``.
code_mean_, code_scale_ : ndarray of shape (n_components_,)
    Median and squared MAD (``score_statistics="mean"``: mean and variance) of each
    code unit on the training rows, the scale floored (and, for "median", rescaled so
    that the code part has median 1 on them): standardize the code distance in
    ``score_samples``.
feature_scale_ : ndarray of shape (n_features_in_,)
    Standard deviation of each column on the training rows (for a constant column, the
    median of the others'; ``partial_fit``: the first chunk's, ``fit_stream``: the
    sample's), independent of every
    parameter: divides the reconstruction errors of ``score``, so that scores compare
    across parameter settings.
hidden_layer_sizes_ : tuple of int
    The hidden layer widths used.
n_components_ : int
    The code size used.
loss_curve_ : list of float
    Training loss per epoch.
validation_loss_curve_ : list of float or None
    Mean reconstruction error of the held-out rows per epoch (None without early stopping).
best_loss_ : float
    Best value of the monitored loss.
n_iter_ : int
    Number of epochs run.
device_ : str
    The device the network lives on.
n_features_in_ : int
    Number of features seen during ``fit``.
feature_names_in_ : ndarray of shape (n_features_in_,)
    Names of features seen during ``fit``, when they are all strings.
"""
