"""Reading a model file that nobody vouches for: bounded sizes, a strict header, an audit of
skops' schema before any object is built, and a check of the objects once built.

:mod:`ae_anomaly.persistence` calls these in order. Every refusal is a one-line
:class:`ModelFileError`. The limits (module constants) bound the memory a file can make a
load take: about ``MAX_FILE_BYTES`` for the file plus three times the uncompressed size of
its members (``MAX_TOTAL_BYTES``), whatever the file says about itself.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import zipfile

#: A model file larger than this is refused before it is read.
MAX_FILE_BYTES = 1 << 30
#: The members' uncompressed sizes (from the zip directory) may not add up to more.
MAX_TOTAL_BYTES = 1 << 30
#: ``ae_anomaly.json`` and skops' ``schema.json``, uncompressed.
MAX_HEADER_BYTES = 1 << 20
MAX_SCHEMA_BYTES = 32 << 20
MAX_MEMBERS = 10_000
#: Nesting of skops' schema (a CLI pipeline needs about 25 levels).
MAX_DEPTH = 100


class ModelFileError(ValueError):
    """The file is not a model we can load safely: foreign, corrupted, newer or malicious."""

    __module__ = "ae_anomaly.persistence"  # where users import it from


# ------------------------------------------------------------------------- the file, the zip
def read_file(path):
    """The bytes of a regular file of at most ``MAX_FILE_BYTES``; never blocks on a FIFO."""
    name = repr(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise ModelFileError(f"{name} is a directory, not a model file.") from None
    except OSError as exc:
        raise ModelFileError(f"Cannot read model file {name}: {exc.strerror}.") from None
    try:  # checked before a file object exists: opening one on a directory fails
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ModelFileError(f"{name} is a directory, not a model file.")
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(
                f"{name} is not a regular file (a device, pipe or socket): a model file is "
                "read from disk."
            )
        if info.st_size > MAX_FILE_BYTES:
            raise ModelFileError(_too_large(name, "is", info.st_size, MAX_FILE_BYTES))
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with file:
        try:
            data = file.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise ModelFileError(f"Cannot read model file {name}: {exc.strerror}.") from None
    if len(data) > MAX_FILE_BYTES:  # it grew while we read it
        raise ModelFileError(_too_large(name, "is", len(data), MAX_FILE_BYTES))
    return data


def _too_large(name, verb, size, limit):
    return (
        f"{name} {verb} {size:,} bytes, over the limit of {limit:,} for a model file "
        "(ae_anomaly.persistence.archive.MAX_FILE_BYTES / MAX_TOTAL_BYTES)."
    )


def open_archive(data, name):
    """The zip inside ``data``, its directory checked before any member is read."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ModelFileError(f"{name} holds {len(infos):,} members, more than a model file has.")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ModelFileError(f"{name} holds two members named {twice!r}: refusing it.")
    if any(info.flag_bits & 0x1 for info in infos):
        raise ModelFileError(f"{name} holds an encrypted member: model files are not encrypted.")
    total = sum(info.file_size for info in infos)
    if total > MAX_TOTAL_BYTES:
        raise ModelFileError(_too_large(name, "unpacks to", total, MAX_TOTAL_BYTES))
    return archive


def read_json(archive, member, limit, name):
    """A JSON member of at most ``limit`` bytes; NaN and infinities are not JSON."""
    size = archive.getinfo(member).file_size
    if size > limit:
        raise ModelFileError(f"{name}: its {member} is {size:,} bytes, over the limit {limit:,}.")

    def constant(token):
        raise ValueError(f"{token} is not JSON")

    try:
        return json.loads(archive.read(member), parse_constant=constant)
    except RecursionError:
        raise ModelFileError(f"{name}: its {member} nests too deeply.") from None


# ------------------------------------------------------------------------------- the header
def _fail_header(name, what):
    raise ModelFileError(f"{name} has a malformed header ({what}).")


def _is_int(value, low=0):
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_str_list(value):
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def check_header(header, name):
    """Refuse a header whose known fields have the wrong shape (the CLI reads them as is)."""
    versions = header.get("versions")
    if not isinstance(versions, dict) or not versions:
        _fail_header(name, "no 'versions'")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in versions.items()):
        _fail_header(name, "'versions' must map names to strings")
    if not isinstance(header.get("created", ""), str):
        _fail_header(name, "'created' is not a string")
    estimator = header.get("estimator")
    if not isinstance(estimator, dict) or not isinstance(estimator.get("class"), str):
        _fail_header(name, "no 'estimator' with its 'class'")
    if not isinstance(estimator.get("params", {}), dict):
        _fail_header(name, "'estimator.params' is not an object")
    if estimator.get("n_features_in") is not None and not _is_int(estimator["n_features_in"], 1):
        _fail_header(name, "'estimator.n_features_in' is not a positive integer")
    if estimator.get("feature_names_in") is not None and not _is_str_list(
        estimator["feature_names_in"]
    ):
        _fail_header(name, "'estimator.feature_names_in' is not a list of names")
    if "offset" in estimator and not _is_number(estimator["offset"]):
        _fail_header(name, "'estimator.offset' is not a finite number")
    if "threshold" in header and not _is_number(header["threshold"]):
        _fail_header(name, "'threshold' is not a finite number")
    if not isinstance(header.get("kind", ""), str):
        _fail_header(name, "'kind' is not a string")
    if "schema" in header:  # written by the CLI: the schema, the summary and the threshold
        _check_schema(header["schema"], name)
        for key in ("training", "threshold", "kind"):
            if key not in header:
                _fail_header(name, f"a column schema but no {key!r}")
    if "training" in header:
        _check_training(header["training"], name)


def _check_schema(schema, name):
    from dataclasses import fields

    from ..tables.schema import Schema

    if not isinstance(schema, dict):
        _fail_header(name, f"'schema' is {type(schema).__name__}, not an object")
    known = {f.name for f in fields(Schema)}
    extra = sorted(set(schema) - known)
    if extra:
        _fail_header(name, f"'schema' has unknown key(s) {', '.join(map(repr, extra))}")
    features = schema.get("features")
    if not isinstance(features, dict) or not features:
        _fail_header(name, "'schema.features' is not a non-empty object")
    if not all(isinstance(kind, str) for kind in features.values()):
        _fail_header(name, "'schema.features' must map column names to kinds")
    for key in ("ids", "ignored"):
        if not _is_str_list(schema.get(key, [])):
            _fail_header(name, f"'schema.{key}' is not a list of column names")
    if not isinstance(schema.get("impute"), str | None):
        _fail_header(name, "'schema.impute' is not a string")


def _check_training(training, name):
    if not isinstance(training, dict):
        _fail_header(name, "'training' is not an object")
    for key in ("rows", "n_iter", "flagged"):
        if key in training and not _is_int(training[key]):
            _fail_header(name, f"'training.{key}' is not a non-negative integer")
    for key in ("seconds", "best_loss", "final_loss"):
        if key in training and training[key] is not None and not _is_number(training[key]):
            _fail_header(name, f"'training.{key}' is not a finite number")
    quantiles = training.get("score_quantiles")
    if (
        not isinstance(quantiles, list)
        or not quantiles
        or not all(_is_number(q) for q in quantiles)
        or any(b < a for a, b in zip(quantiles, quantiles[1:], strict=False))
    ):
        _fail_header(name, "'training.score_quantiles' is not a non-empty sorted list of numbers")
