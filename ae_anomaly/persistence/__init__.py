"""Safe model files: :func:`save` and :func:`load`, with no pickle anywhere.

- :mod:`.modelfile`: ``save`` / ``load`` / ``read_metadata``, the header and its versions;
- :mod:`.archive`: the file read as untrusted bytes (sizes, zip directory, strict header);
- :mod:`.audit`: skops' schema audited before anything is built, the built model checked;
- :mod:`.tablecheck`: a table model's encoder checked against its estimator, and scored.

What the format defends against, and what it does not: SECURITY.md.
"""

from .archive import ModelFileError
from .modelfile import (
    FORMAT,
    FORMAT_VERSION,
    HEADER,
    describe,
    load,
    load_with_metadata,
    read_metadata,
    save,
    trusted_types,
    versions,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "HEADER",
    "ModelFileError",
    "describe",
    "load",
    "load_with_metadata",
    "read_metadata",
    "save",
    "trusted_types",
    "versions",
]
