"""Crafted model files for the hostile-input tests: each returns the path it wrote.

Kept importable (no test in here) so a subprocess under a memory cap can build the same
files the in-process tests use.
"""

import io
import json
import zipfile

import numpy as np

HEADER, SCHEMA = "ae_anomaly.json", "schema.json"


def members(path):
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write(path, content, compression=zipfile.ZIP_DEFLATED):
    """A zip of ``content`` (name -> bytes); duplicate names allowed via a list of pairs."""
    items = content.items() if isinstance(content, dict) else content
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in items:
            archive.writestr(name, data)
    return path


def edit(path, out, *, header=None, schema=None, extra=None):
    """Copy ``path`` to ``out``, passing the header and the schema through functions."""
    content = members(path)
    if header is not None:
        content[HEADER] = json.dumps(header(json.loads(content[HEADER]))).encode()
    if schema is not None:
        content[SCHEMA] = json.dumps(schema(json.loads(content[SCHEMA]))).encode()
    content.update(extra or {})
    return write(out, content)


def estimator_state(tree):
    """The attribute dict (name -> node) of the estimator in a schema (pipeline or bare)."""
    node = tree
    if node["__class__"] == "Pipeline":
        node = node["content"]["content"]["steps"]["content"][-1]["content"][1]
    return node["content"]["content"]


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def set_json(state, key, value):
    state[key] = {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
                  "content": json.dumps(value), "is_json": True}  # fmt: skip


def replace_array(path, out, key, array):
    """Point the estimator's ``key`` (an array attribute) at a new member holding ``array``."""

    def schema(tree):
        estimator_state(tree)[key].update({"file": "crafted.npy", "__id__": 1})
        return tree

    return edit(path, out, schema=schema, extra={"crafted.npy": npy(array)})


def replace_weight(path, out, index, transform):
    """Rewrite one network weight array through ``transform(array) -> array``."""
    content = members(path)
    tree = json.loads(content[SCHEMA])
    weights = estimator_state(tree)["_module_state"]["content"]
    node = list(weights.values())[index]
    array = np.load(io.BytesIO(content[node["file"]]))
    content[node["file"]] = npy(transform(array))
    return write(out, content)


def one_member_many_times(path, out, size, times):
    """The 'zip bomb by reference': ``times`` arrays all pointing at one ``size``-byte member."""
    content = members(path)
    tree = json.loads(content[SCHEMA])
    state = estimator_state(tree)
    for i in range(times):
        state[f"bomb{i}_"] = {"__class__": "ndarray", "__module__": "numpy",
                              "__loader__": "NdArrayNode", "type": "numpy",
                              "file": "big.npy", "__id__": 10_000 + i}  # fmt: skip
    content[SCHEMA] = json.dumps(tree).encode()
    content["big.npy"] = npy(np.zeros(size // 8))
    return write(out, content)


def inflated_header(path, out, size):
    """A header member that inflates to ``size`` bytes (whitespace compresses ~1000:1)."""
    content = members(path)
    content[HEADER] = content[HEADER][:-1] + b" " * size + b"}"
    return write(out, content)


def declared_shape(path, out, shape):
    """The first weight's .npy header declaring ``shape`` over its original bytes."""
    import re

    content = members(path)
    tree = json.loads(content[SCHEMA])
    node = next(iter(estimator_state(tree)["_module_state"]["content"].values()))
    data = content[node["file"]]
    header_len = 10 + int.from_bytes(data[8:10], "little")
    text = data[10:header_len].decode("latin1").strip()
    text = re.sub(r"'shape': \([^)]*\)", f"'shape': {tuple(shape)!r}", text)
    text = text.ljust(header_len - 11) + "\n"
    content[node["file"]] = (
        data[:8] + len(text).to_bytes(2, "little") + text.encode("latin1") + (data[header_len:])
    )
    return write(out, content)


def set_sizes(path, out, key, sizes):
    """The estimator's ``key`` (a tuple such as hidden_layer_sizes_) set to ``sizes``."""

    def schema(tree):
        node = estimator_state(tree)[key]
        item = {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode"}
        node["content"] = [{**item, "content": json.dumps(n), "is_json": True} for n in sizes]
        node.pop("__id__", None)
        return tree

    return edit(path, out, schema=schema)


def add_categories(path, out, labels):
    """The first categorical column of a table model's encoder given more ``labels``."""
    content = members(path)
    tree = json.loads(content[SCHEMA])

    def first_categories(node):
        if isinstance(node, dict):
            found = node.get("categories")
            if isinstance(found, dict) and found.get("__loader__") == "ListNode":
                return found["content"]
            nodes = node.values()
        else:
            nodes = node if isinstance(node, list) else ()
        return next(filter(None, map(first_categories, nodes)), None)

    item = {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "is_json": True}  # fmt: skip
    first_categories(tree).extend({**item, "content": json.dumps(label)} for label in labels)
    content[SCHEMA] = json.dumps(tree).encode()
    return write(out, content)
