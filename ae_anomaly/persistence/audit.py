"""What a model file holds, checked twice: skops' schema before anything is built (types,
array members, declared shapes, the network the weights are for), then the objects built
(finite weights and statistics, the header agreeing with the payload)."""

from __future__ import annotations

import json
import math
import re
from typing import NamedTuple

import numpy as np

from .._quiet import quiet_warnings
from .archive import MAX_DEPTH, ModelFileError, _is_int, _is_number
from .tablecheck import check_scores_two_rows, check_table_pipeline

_DEVICE = re.compile(r"(cpu|cuda(:\d+)?|mps)\Z")
_PRIMITIVES = {f"builtins.{t}" for t in ("str", "int", "float", "bool")}
_JSON_TYPES = _PRIMITIVES | {"builtins.NoneType", "builtins.list", "builtins.dict"}
#: The skops loaders that only rebuild data (one ``_Audit`` method each); every other one
#: (functions, methods, partials, operator functions, ``__reduce__`` constructors) is refused.
_LOADERS = {
    "JsonNode", "DictNode", "ListNode", "TupleNode", "SetNode", "SliceNode", "TypeNode",
    "DTypeNode", "RandomStateNode", "NdArrayNode", "ObjectNode",
}  # fmt: skip


# ------------------------------------------------------------------ skops' schema, unbuilt
class _Array(NamedTuple):
    """A ``.npy`` member as its header declares it (nothing read beyond the header)."""

    shape: tuple
    dtype: np.dtype


class _Opaque:
    """A value the audit checked but does not need (an object, a type, an object array)."""


_OPAQUE = _Opaque()
_BUSY = object()


def audit_schema(archive, schema, name, objects, estimators):
    """Walk skops' ``schema.json`` as skops would, building nothing; refuse what is unsafe.

    ``objects`` are the class names an object may have; ``estimators`` maps the names of
    our estimator classes to the classes, whose declared network is checked against the
    weights' declared shapes before skops builds it.
    """
    _Audit(archive, name, objects, estimators).node(schema, 0)


class _Audit:
    def __init__(self, archive, name, objects, estimators):
        self.archive, self.name = archive, name
        self.objects, self.estimators = objects, estimators
        self.memo, self.files = {}, {}

    def fail(self, what):
        raise ModelFileError(f"{self.name} {what}: refusing to load it.")

    def refuse(self, what):
        """A type or loader that could run code: the file was likely crafted."""
        raise ModelFileError(
            f"{self.name} holds {what}, which model files may not contain: refusing to load "
            "it; it may have been crafted to run code."
        )

    def node(self, state, depth):
        if depth > MAX_DEPTH:
            self.fail("nests its objects too deeply")
        if not isinstance(state, dict):
            self.fail("has a malformed schema.json")
        saved_id = state.get("__id__")
        if saved_id and not _is_int(saved_id):
            self.fail("has a malformed schema.json (an __id__ that is not a number)")
        if saved_id:  # skops builds the first node of an __id__ and reuses it for the rest
            if saved_id in self.memo:
                if self.memo[saved_id] is _BUSY:
                    self.fail("holds an object that contains itself")
                return self.memo[saved_id]
            self.memo[saved_id] = _BUSY
        loader, module, cls = (state.get(k) for k in ("__loader__", "__module__", "__class__"))
        if not all(isinstance(v, str) for v in (loader, module, cls)):
            self.fail("has a malformed schema.json")
        if loader not in _LOADERS:  # functions, methods, partials, __reduce__ constructors...
            self.refuse(f"{module}.{cls} (a skops {loader})")
        value = getattr(self, f"_{loader}")(state, f"{module}.{cls}", depth + 1, saved_id)
        if saved_id:
            self.memo[saved_id] = value
        return value

    def type_is(self, type_name, allowed):
        if type_name not in allowed:
            self.refuse(type_name)

    def content(self, state, kind):
        value = state.get("content")
        if not isinstance(value, kind):
            self.fail("has a malformed schema.json")
        return value

    # One method per skops loader allowed; the name is the loader's.
    def _JsonNode(self, state, type_name, depth, saved_id):
        self.type_is(type_name, _JSON_TYPES)
        try:
            return json.loads(self.content(state, str))
        except (ValueError, RecursionError):
            self.fail("has a malformed schema.json (bad JSON value)")

    def _DictNode(self, state, type_name, depth, saved_id):
        self.type_is(type_name, {"builtins.dict", "collections.OrderedDict"})
        self.node(state.get("key_types"), depth)
        return {str(k): self.node(v, depth) for k, v in self.content(state, dict).items()}

    def _ListNode(self, state, type_name, depth, saved_id):
        self.type_is(type_name, {"builtins.list"})
        return [self.node(v, depth) for v in self.content(state, list)]

    def _TupleNode(self, state, type_name, depth, saved_id):
        self.type_is(type_name, {"builtins.tuple"})
        return tuple(self.node(v, depth) for v in self.content(state, list))

    def _SetNode(self, state, type_name, depth, saved_id):
        self.type_is(type_name, {"builtins.set"})
        for value in self.content(state, list):
            self.node(value, depth)
        return _OPAQUE

    def _SliceNode(self, state, type_name, depth, saved_id):
        self.type_is(type_name, {"builtins.slice"})
        parts = self.content(state, dict)
        if not all(v is None or _is_int(v, -(2**62)) for v in parts.values()):
            self.fail("has a malformed schema.json (a slice)")
        return _OPAQUE

    def _TypeNode(self, state, type_name, depth, saved_id):
        if type_name not in _PRIMITIVES and not _is_numpy_scalar_type(type_name):
            self.refuse(f"the type {type_name}")
        return _OPAQUE

    def _DTypeNode(self, state, type_name, depth, saved_id):
        self.type_is(type_name, {"numpy.dtype"})
        self.node(state.get("content"), depth)
        return _OPAQUE

    def _RandomStateNode(self, state, type_name, depth, saved_id):
        self.type_is(type_name, {"numpy.random.mtrand.RandomState"})
        self.node(state.get("content"), depth)
        return _OPAQUE

    def _NdArrayNode(self, state, type_name, depth, saved_id):
        if type_name != "numpy.ndarray" and not _is_numpy_scalar_type(type_name):
            self.refuse(f"a {type_name} array")
        if state.get("type") == "json":  # an object array: its items are nodes
            for item in self.content(state, list):
                self.node(item, depth)
            self.node(state.get("shape"), depth)
            return _OPAQUE
        if state.get("type") != "numpy":
            self.fail("has a malformed schema.json (an array of unknown type)")
        member = state.get("file")
        if not isinstance(member, str) or member not in self.archive.NameToInfo:
            self.fail(f"refers to an array {member!r} that is not in it")
        if member in self.files:
            self.fail(f"refers to its member {member!r} more than once")
        self.files[member] = saved_id
        return self.npy_header(member)

    def npy_header(self, member):
        """Shape and dtype from a ``.npy`` header; they must account for the member's size."""
        size = self.archive.getinfo(member).file_size
        fmt = np.lib.format
        try:
            with self.archive.open(member) as file:
                version = fmt.read_magic(file)
                read = (
                    fmt.read_array_header_1_0
                    if version == (1, 0)
                    else (fmt.read_array_header_2_0 if version == (2, 0) else None)
                )
                if read is None:
                    raise ValueError(version)
                shape, _, dtype = read(file, max_header_size=10_000)
                header_size = file.tell()
        except Exception:  # numpy parses the header as Python literals: any error
            self.fail(f"holds a malformed array {member!r}")
        if dtype.hasobject:
            self.fail(f"holds an array of Python objects {member!r}")
        if not all(_is_int(n) for n in shape):
            self.fail(f"holds an array {member!r} with a malformed shape")
        if math.prod(shape) * dtype.itemsize != size - header_size:
            self.fail(
                f"holds an array {member!r} whose declared shape {tuple(shape)} does not match "
                f"its {size:,} bytes"
            )
        return _Array(tuple(shape), dtype)

    def _ObjectNode(self, state, type_name, depth, saved_id):
        self.type_is(type_name, self.objects)
        attrs = state.get("content")
        if attrs is None:
            return _OPAQUE
        if not isinstance(attrs, dict) or attrs.get("__loader__") != "DictNode":
            self.fail(f"has a malformed schema.json (the state of a {type_name})")
        values = self.node(attrs, depth)
        if type_name in self.estimators:
            _check_network(self, self.estimators[type_name], values)
        return _OPAQUE


def _is_numpy_scalar_type(type_name):
    module, _, cls = type_name.rpartition(".")
    found = getattr(np, cls, None) if module == "numpy" else None
    return isinstance(found, type) and issubclass(found, np.generic)


def _check_network(audit, cls, attrs):
    """The network an estimator's state would build has the weights' declared shapes.

    Built on PyTorch's ``meta`` device (no memory): ``hidden_layer_sizes_=(20_000_000,)``
    over small weights is refused here, before skops builds the 7 GB network.
    """
    import torch

    if not isinstance(attrs, dict) or "_module_state" not in attrs:
        return  # not fitted: no network to build
    weights = attrs["_module_state"]
    if not isinstance(weights, dict) or not all(isinstance(v, _Array) for v in weights.values()):
        audit.fail("holds network weights that are not arrays")
    if not isinstance(attrs.get("device_"), str) or not _DEVICE.match(attrs["device_"]):
        audit.fail(f"names an unknown device {attrs.get('device_')!r}")
    for key in ("hidden_layer_sizes", "hidden_layer_sizes_", "channels"):
        if isinstance(attrs.get(key), list | tuple) and len(attrs[key]) > len(weights):
            audit.fail(f"declares more layers in {key} than it holds weights for")
    probe = cls.__new__(cls)
    probe.__dict__.update({k: v for k, v in attrs.items() if not isinstance(v, _Opaque | _Array)})
    try:
        with torch.device("meta"), quiet_warnings():  # "zero-element tensors": refused below
            module = probe._build_module(attrs["n_features_in_"])
        expected = {k: tuple(t.shape) for k, t in module.state_dict().items()}
        params = [tuple(p.shape) for p in module.parameters()]
        trained = {name for name, _ in module.named_parameters()}
    except Exception as exc:  # any value a crafted file may hold
        audit.fail(f"describes a network that cannot be built ({type(exc).__name__})")
    declared = {k: v.shape for k, v in weights.items()}
    if declared != expected:
        audit.fail(
            "holds weights whose shapes do not match the network its parameters describe "
            "(n_features_in_, hidden_layer_sizes_, n_components_)"
        )
    # parameters are floating-point; a buffer may hold integers (an ensemble's column index)
    if any(weights[k].dtype.kind != "f" for k in trained) or any(
        v.dtype.kind not in "fiu" for v in weights.values()
    ):
        audit.fail("holds network weights that are not floating-point")
    _check_optimizer_shapes(audit, attrs.get("_optimizer_state"), params)


def _check_optimizer_shapes(audit, saved, params):
    if saved is None:
        return
    if not isinstance(saved, dict) or saved.get("class") != "Adam":
        audit.fail("holds an optimizer state other than Adam's")
    groups, moments = saved.get("param_groups"), saved.get("state")
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        audit.fail("holds a malformed optimizer state")
    if (
        sum(len(g.get("params", ())) for g in groups) != len(params)
        or not isinstance(moments, list)
        or len(moments) != len(params)
    ):
        audit.fail("holds an optimizer state for another network")
    for group in groups:
        for key in ("lr", "eps", "weight_decay"):
            if key in group and not (_is_number(group[key]) and group[key] >= 0):
                audit.fail(f"holds an optimizer {key} of {group[key]!r}")
        betas = group.get("betas", (0.9, 0.999))
        if not isinstance(betas, list | tuple) or not all(
            _is_number(b) and 0 <= b < 1 for b in betas
        ):
            audit.fail(f"holds optimizer betas of {betas!r}")
    for shape, state in zip(params, moments, strict=True):
        if not isinstance(state, dict):
            audit.fail("holds a malformed optimizer state")
        for key, value in state.items():
            if not isinstance(value, _Array) or value.shape not in (shape, ()):
                audit.fail(f"holds an optimizer {key} for another network")


# ------------------------------------------------------------------------ the built objects
def check_payload(model, header, name, legacy_modules):
    """The objects built agree with the header and hold finite, usable numbers."""
    from sklearn.pipeline import Pipeline

    from ..models.base import BaseAutoencoder
    from ..models.registry import type_name

    steps = vars(model).get("steps") if isinstance(model, Pipeline) else [("", model)]
    if not (
        isinstance(steps, list | tuple)
        and steps
        and all(isinstance(s, list | tuple) and len(s) == 2 for s in steps)
    ):
        raise ModelFileError(f"{name} holds a pipeline without valid steps: refusing it.")
    final = steps[-1][1]
    declared = header["estimator"]["class"]
    module, _, cls = declared.rpartition(".")
    declared = f"{legacy_modules.get(module, module)}.{cls}"
    if declared != type_name(type(final)):
        raise ModelFileError(
            f"{name} says it holds a {header['estimator']['class']} but holds a "
            f"{type_name(type(final))}: refusing it."
        )
    n_features = header["estimator"].get("n_features_in")
    if n_features is not None and getattr(model, "n_features_in_", n_features) != n_features:
        raise ModelFileError(f"{name}: its header and its model disagree on the feature count.")
    if "schema" in header:  # written by the CLI: a pipeline, its threshold -offset_
        if not isinstance(model, Pipeline):
            raise ModelFileError(f"{name} has a column schema but no pipeline: refusing it.")
        if header["threshold"] != -getattr(final, "offset_", math.nan):
            raise ModelFileError(f"{name}: its header's threshold is not its model's: refusing it.")
    if "offset" in header["estimator"] and header["estimator"]["offset"] != getattr(
        final, "offset_", math.nan
    ):
        raise ModelFileError(f"{name}: its header's offset is not its model's: refusing it.")
    if isinstance(model, Pipeline):
        check_table_pipeline(model, final, name)
    for part in _parts(model):
        if isinstance(part, BaseAutoencoder):
            _check_estimator(part, name)
            _check_scores(part, name)
        elif _fitted_scaler(part):
            _check_finite(part, name, type(part).__name__)


def _check_scores(est, name):
    """The estimator scores two rows of zeros: finite scores, no exception (the last word on
    arrays whose shape or dtype is wrong in a way no other check names)."""
    if "module_" not in vars(est):
        return
    check_scores_two_rows(est, np.zeros((2, est.n_features_in_)), name, type(est).__name__)


def _parts(model):
    """The model, its pipeline steps and column transformers' parts, depth first."""
    yield model
    children = [step for _, step in getattr(model, "steps", ())]
    children += [part for _, part, _ in getattr(model, "transformers_", ())]
    for child in children:
        if hasattr(child, "get_params"):
            yield from _parts(child)


def _fitted_scaler(part):
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    return isinstance(part, StandardScaler | MinMaxScaler | RobustScaler)


def _check_finite(obj, name, what, attributes=None):
    attributes = attributes or [k for k in vars(obj) if k.endswith("_")]
    for key in attributes:
        value = vars(obj).get(key)
        floats = isinstance(value, np.ndarray | float) and np.asarray(value).dtype.kind == "f"
        if floats and not np.all(np.isfinite(value)):
            raise ModelFileError(f"{name}: {what}.{key} holds NaN or infinite values.")


def _check_estimator(est, name):
    import torch

    what = type(est).__name__
    state = vars(est)
    if "module_" not in state:
        return  # unfitted
    for key, tensor in est.module_.state_dict().items():
        if not bool(torch.isfinite(tensor).all()):
            raise ModelFileError(f"{name}: {what}'s weights {key} hold NaN or infinite values.")
    if not _is_number(state.get("offset_")):
        raise ModelFileError(f"{name}: {what}.offset_ is {state.get('offset_')!r}, not a number.")
    for key in ("error_scale_", "code_scale_", "feature_scale_"):
        value = state.get(key)
        if value is not None and not (np.all(np.isfinite(value)) and np.all(np.asarray(value) > 0)):
            raise ModelFileError(f"{name}: {what}.{key} must be positive and finite.")
    _check_finite(est, name, what, ["code_mean_"])
    if state.get("scaler_") is not None:
        _check_finite(state["scaler_"], name, f"{what}.scaler_")
    saved = state.get("_optimizer_state")  # the moments; lr and betas were checked unbuilt
    for moments in (saved or {}).get("state", ()):
        for key, value in moments.items():
            if not np.all(np.isfinite(value)):
                raise ModelFileError(f"{name}: {what}'s optimizer {key} holds NaN or infinities.")
