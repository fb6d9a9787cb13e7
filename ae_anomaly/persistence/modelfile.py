"""Safe model files: ``save(model, path)`` and ``load(path)``, with no pickle anywhere.

A model file is a `skops <https://skops.readthedocs.io>`_ archive (a zip of JSON and
``.npy`` arrays) with one more member, ``ae_anomaly.json``, that records the format
version, the library versions, the feature schema and a summary of the model. Loading
reads that header first (foreign, corrupted and newer-format files stop there), then lets
skops rebuild the objects, allowing only scikit-learn's own types, NumPy's and the
estimators that ``ae_anomaly`` exports: nothing in a file can name a function to call.
The estimators store their networks as plain arrays (see ``BaseAutoencoder.__getstate__``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import io
import json
import platform
import zipfile
import zlib
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..tables.formats import is_table_path
from ..tables.writer import atomic_path
from .archive import (
    MAX_HEADER_BYTES,
    MAX_SCHEMA_BYTES,
    ModelFileError,
    check_header,
    open_archive,
    read_file,
    read_json,
)
from .audit import audit_schema, check_payload


def _skops_io():
    """``skops.io``, imported on first use: importing it lists every scikit-learn type
    (1.4 s), which ``import ae_anomaly`` and ``ae-anomaly --help`` need not pay."""
    return importlib.import_module("skops.io")


#: What ``ae_anomaly.json`` says a file is; bumped when an older reader could misread one.
FORMAT = "ae_anomaly.model"
FORMAT_VERSION = 1
HEADER = "ae_anomaly.json"
SCHEMA = "schema.json"  # skops' own
#: Types outside skops' defaults that a fitted pipeline of ours holds (dtype parameters).
_EXTRA_TRUSTED = ("numpy.dtype", "ae_anomaly.tables.encoder.TableEncoder")


def trusted_types():
    """Type names allowed in a model file on top of skops' defaults (sklearn, NumPy, builtins).

    Examples
    --------
    >>> "ae_anomaly.models.autoencoder.Autoencoder" in trusted_types()
    True
    """
    from ..models.registry import public_estimators, type_name  # torch: not for read_metadata
    return sorted({type_name(cls) for cls in public_estimators()} | set(_EXTRA_TRUSTED))


def versions():
    """The versions that matter for reading a model back."""
    import sklearn
    import torch

    from .. import __version__

    return {
        "ae_anomaly": __version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "skops": importlib.metadata.version("skops"),
        "python": platform.python_version(),
    }


def _json_safe(value):
    """Parameters as JSON: tuples become lists, anything exotic its repr."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def describe(model):
    """The header fields derived from a fitted estimator or pipeline."""
    from ..models.registry import type_name
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    names = getattr(model, "feature_names_in_", None)
    info = {
        "class": type_name(type(final)),
        "params": _json_safe(final.get_params(deep=False)),
        "n_features_in": int(model.n_features_in_) if hasattr(model, "n_features_in_") else None,
        "feature_names_in": None if names is None else [str(n) for n in names],
    }
    if hasattr(final, "offset_"):
        info["offset"] = float(final.offset_)
    if hasattr(final, "n_iter_"):
        info["n_iter"] = int(final.n_iter_)
        info["best_loss"] = float(final.best_loss_)
        info["final_loss"] = float(final.loss_curve_[-1]) if final.loss_curve_ else None
    return info


def save(model, path, *, metadata=None):
    """Save a fitted estimator or pipeline to ``path``, safely loadable with :func:`load`.

    The file is written atomically: it appears complete or not at all.

    Parameters
    ----------
    model : estimator or Pipeline
        Fitted; made of scikit-learn types and the estimators of ``ae_anomaly``.
    path : str or path-like
        Conventionally ending in ``.skops``.
    metadata : dict, optional
        JSON-serializable extra fields for the header (the CLI records the column schema,
        the training summary and the threshold there).

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from ae_anomaly import Autoencoder, save, load
    >>> X = np.random.RandomState(0).normal(size=(100, 4))
    >>> ae = Autoencoder(max_iter=2, random_state=0).fit(X)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.skops"
    >>> save(ae, path)
    >>> np.array_equal(load(path).score_samples(X), ae.score_samples(X))
    True
    """
    if not hasattr(model, "get_params"):
        raise TypeError(f"save expects a fitted estimator or pipeline, got {type(model).__name__}.")
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(),
        "estimator": describe(model),
        **(metadata or {}),
    }
    payload = _skops_io().dumps(model, compression=zipfile.ZIP_DEFLATED)
    _check_loadable(model, payload)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(payload)
        with zipfile.ZipFile(tmp, mode="a") as archive:
            archive.writestr(HEADER, json.dumps(header, indent=1, allow_nan=False))


def _open(path):
    """``(data, archive, header)`` of a model file, its size, directory and header checked."""
    name = repr(str(path))
    data = read_file(path)
    if not data:
        raise ModelFileError(f"{name} is empty, not a model file.")
    if data[:1] == b"\x80":  # the PROTO opcode that starts every pickle since protocol 2
        raise ModelFileError(
            f"{name} is a pickle file, which can run code when loaded: refusing it. Model "
            "files are written by ae_anomaly.save or `ae-anomaly fit`."
        )
    try:
        archive = open_archive(data, name)
        if HEADER not in archive.NameToInfo:
            raise ModelFileError(f"{name} is not an ae_anomaly model file (no {HEADER} inside).")
        header = read_json(archive, HEADER, MAX_HEADER_BYTES, name)
    except ModelFileError:
        raise
    except _BROKEN:
        if data[:4] != b"PK\x03\x04":
            hint = ""
            if is_table_path(path):  # ae-anomaly score data.csv model.skops
                hint = " (a table? the model file comes first: ae-anomaly score MODEL DATA)"
            raise ModelFileError(f"{name} is not an ae_anomaly model file{hint}.") from None
        raise ModelFileError(f"{name} is corrupted or truncated.") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{name} is not an ae_anomaly model file.")
    found = header.get("format_version")
    if not isinstance(found, int) or isinstance(found, bool) or not 1 <= found <= FORMAT_VERSION:
        written = header.get("versions")
        written_by = written.get("ae_anomaly") if isinstance(written, dict) else None
        raise ModelFileError(
            f"{name} was written by ae_anomaly {written_by or 'an unknown version'} in model "
            f"format {found!r}; this ae_anomaly reads format {FORMAT_VERSION} at most: upgrade "
            "ae_anomaly."
        )
    check_header(header, name)
    return data, archive, header


#: What the zip and JSON layers raise on a damaged file.
_BROKEN = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, UnicodeDecodeError, KeyError,
           NotImplementedError, OSError)  # fmt: skip


def read_metadata(path):
    """The header of a model file (format, versions, schema, summary), once the whole file
    has been verified: what :func:`load` refuses, this refuses too.

    Raises
    ------
    ModelFileError
        When the file is not a readable, valid ae_anomaly model file of a known format.
    """
    return load_with_metadata(path)[1]


#: Modules that held the estimators before the package was grouped into subpackages
#: (files written then name them): ``ae_anomaly.autoencoder`` -> ``ae_anomaly.models...``.
_LEGACY_MODULES = {
    f"ae_anomaly.{name}": f"ae_anomaly.models.{name}"
    for name in ("autoencoder", "contractive", "conv", "denoising", "sparse", "stacked",
                 "variational")
}  # fmt: skip


def _rename_legacy(node):
    """Rename pre-0.2 module names of our estimators in skops' schema; True if any."""
    renamed = False
    if isinstance(node, dict):
        module = node.get("__module__")
        if isinstance(module, str) and module in _LEGACY_MODULES:
            node["__module__"] = _LEGACY_MODULES[module]
            renamed = True
        for value in node.values():
            renamed = _rename_legacy(value) or renamed
    elif isinstance(node, list):
        for value in node:
            renamed = _rename_legacy(value) or renamed
    return renamed


def _with_schema(archive, tree):
    """The archive's bytes with ``schema.json`` replaced by ``tree``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as upgraded:
        for item in archive.infolist():
            content = json.dumps(tree) if item.filename == SCHEMA else archive.read(item)
            upgraded.writestr(item, content)
    return out.getvalue()


def _allowed_objects():
    """Class names an object in a model file may have: scikit-learn's estimators, ours."""
    from ..models.registry import public_estimators, type_name

    try:
        from skops.io._trusted_types import SKLEARN_ESTIMATOR_TYPE_NAMES as sklearn_names
    except ImportError:  # pragma: no cover - a skops that moved it
        from sklearn.utils import all_estimators

        sklearn_names = [type_name(cls) for _, cls in all_estimators()]
    return {*sklearn_names, *(type_name(cls) for cls in public_estimators())}


def _check_loadable(model, payload):
    """Refuse to save what :func:`load` would refuse: the same type list and audit."""
    from ..models.base import BaseAutoencoder
    from ..models.registry import public_estimators, type_name

    allowed = trusted_types()
    reasons = [t for t in _skops_io().get_untrusted_types(data=payload) if t not in allowed]
    if not reasons:
        archive = zipfile.ZipFile(io.BytesIO(payload))
        ours = {type_name(c): c for c in public_estimators() if issubclass(c, BaseAutoencoder)}
        try:
            tree = read_json(archive, SCHEMA, MAX_SCHEMA_BYTES, "the model")
            audit_schema(archive, tree, "the model", _allowed_objects(), ours)
        except ModelFileError as exc:
            reasons = [str(exc)]
    if reasons:
        raise TypeError(
            f"cannot save {type(model).__name__}: it holds types that model files may not "
            f"contain ({', '.join(reasons)}), which load would refuse; use the estimators "
            "and transformers of ae_anomaly and scikit-learn with plain column lists."
        )


def load_with_metadata(path):
    """``(model, header)`` of a model file; see :func:`load`."""
    from ..models.base import BaseAutoencoder
    from ..models.registry import public_estimators, type_name

    data, archive, header = _open(path)
    name = repr(str(path))
    try:
        tree = read_json(archive, SCHEMA, MAX_SCHEMA_BYTES, name)
        if _rename_legacy(tree):
            data = _with_schema(archive, tree)
        ours = {type_name(c): c for c in public_estimators() if issubclass(c, BaseAutoencoder)}
        audit_schema(archive, tree, name, _allowed_objects(), ours)
    except ModelFileError:
        raise
    except _BROKEN:
        raise ModelFileError(f"{name} is corrupted or truncated.") from None
    try:
        model = _skops_io().loads(data, trusted=trusted_types())
    except MemoryError:
        raise ModelFileError(f"{name} needs more memory to load than is available.") from None
    except Exception as exc:  # skops or a constructor failing on damaged contents
        if "Untrusted" in type(exc).__name__:  # the audit above refuses these first
            raise ModelFileError(f"{name} holds types model files may not contain.") from None
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise ModelFileError(f"{name} is corrupted: {type(exc).__name__}: {first}") from None
    check_payload(model, header, name, _LEGACY_MODULES)
    return model, header


def load(path):
    """Load a model saved by :func:`save` (or by ``ae-anomaly fit``); never runs code.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    model : estimator or Pipeline

    Raises
    ------
    ModelFileError
        When the file is not an ae_anomaly model file, is corrupted or truncated, was
        written in a newer format, or holds types outside the allowed list.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ae_anomaly import load
    >>> bogus = pathlib.Path(tempfile.mkdtemp()) / "model.skops"
    >>> _ = bogus.write_text("hello")
    >>> load(bogus)
    Traceback (most recent call last):
    ...
    ae_anomaly.persistence.ModelFileError: '...model.skops' is not an ae_anomaly model file.
    """
    return load_with_metadata(path)[0]
