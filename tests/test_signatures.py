"""Guards for the family's explicit signatures (sklearn's ``test_docstring_parameters``).

Every subclass repeats the template's parameters (``get_params`` reads ``__init__``, so
``**kwargs`` is not an option); these tests keep the copies honest: same names and
defaults as the template unless ``tests/instances.py`` declares an override, and each
class's numpydoc Parameters section lists exactly its signature, in any order.
"""

import inspect
import re

import pytest

from ae_anomaly.models.base import BaseAutoencoder
from tests.instances import default_overrides, estimator_classes, removed_parameters

AUTOENCODERS = [cls for cls in estimator_classes() if issubclass(cls, BaseAutoencoder)]


def _parameters(cls):
    return {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if name != "self"
    }


def documented_parameters(doc):
    """Names in the numpydoc ``Parameters`` section of ``doc`` (``a, b : int`` gives both).

    >>> documented_parameters('''Summary.
    ...
    ... Parameters
    ... ----------
    ... x : int
    ...     The x.
    ... y, z : float
    ...
    ... Returns
    ... -------
    ... out : int
    ... ''')
    ['x', 'y', 'z']
    """
    lines = inspect.cleandoc(doc).splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "Parameters") + 2
    names = []
    for i in range(start, len(lines)):
        line = lines[i]
        if i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
            break  # the next section's title
        match = re.match(r"^([A-Za-z_][\w, ]*?)\s*(:|$)", line)
        if match and line.strip() and not line.startswith(" "):
            names.extend(n.strip() for n in match.group(1).split(","))
    return names


@pytest.mark.parametrize("cls", AUTOENCODERS, ids=lambda c: c.__name__)
def test_subclass_keeps_the_template_parameters(cls):
    base = _parameters(BaseAutoencoder)
    own = _parameters(cls)
    expected = {
        name: default_overrides(cls).get(name, default)
        for name, default in base.items()
        if name not in removed_parameters(cls)
    }
    inherited = {name: own[name] for name in own if name in base}
    assert inherited == expected


@pytest.mark.parametrize("cls", AUTOENCODERS, ids=lambda c: c.__name__)
def test_declared_overrides_are_real(cls):
    """A declared override must differ from the template (no stale entries)."""
    base = _parameters(BaseAutoencoder)
    for name, value in default_overrides(cls).items():
        assert base[name] != value, f"{cls.__name__}.{name} overrides nothing"
    assert removed_parameters(cls) <= set(base)


@pytest.mark.parametrize("cls", estimator_classes(), ids=lambda c: c.__name__)
def test_docstring_parameters_match_signature(cls):
    documented = documented_parameters(cls.__doc__)
    assert len(documented) == len(set(documented)), "a parameter is documented twice"
    assert sorted(documented) == sorted(_parameters(cls))


def test_dotted_names_in_the_readme_exist():
    """Each `ae_anomaly.x.y` the README names imports: it named the image models' list of
    expected failed checks as ae_anomaly.conv.EXPECTED_FAILED_CHECKS, a module that does
    not exist (ae_anomaly.models.conv holds it)."""
    import importlib
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    names = sorted(set(re.findall(r"`(ae_anomaly(?:\.\w+)+)`", readme)))
    assert "ae_anomaly.models.conv.EXPECTED_FAILED_CHECKS" in names
    for name in names:
        parts = name.split(".")
        for i in range(len(parts), 0, -1):  # the longest importable prefix, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            for part in parts[i:]:
                assert hasattr(obj, part), f"README names {name}: no {part} in {obj!r}"
                obj = getattr(obj, part)
            break
