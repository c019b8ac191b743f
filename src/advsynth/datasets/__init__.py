"""Real tables shipped with advsynth, so its main job runs from any install with nothing beside it.

A config (or ``--data``) names a bundled table as ``advsynth:NAME``; ``path`` turns that into
the file inside the installed package. Files are gzip-compressed text, read like any CSV
(``advsynth.io.read_bytes`` decompresses gzip). Sources, licences and checksums of the
original files: ``README.md`` beside this module.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import InputError

SCHEME = "advsynth:"

# name -> (file in this package, sha256 of the decompressed original)
DATASETS = {
    "adult": ("adult.data.gz", "de676534823b8e35c35e901ab2bafb232aee6a10df7a8c2d30ededdba3e66e4f"),
}


def is_bundled(uri) -> bool:
    """True for ``advsynth:NAME``."""
    return isinstance(uri, str) and uri.startswith(SCHEME)


def path(name: str) -> Path:
    """The file of bundled table ``name`` (``adult``) inside the installed package."""
    if name not in DATASETS:
        raise InputError(f"no bundled table {name!r}; advsynth ships {', '.join(sorted(DATASETS))}")
    return Path(str(resources.files(__name__).joinpath(DATASETS[name][0])))


def resolve(uri):
    """``advsynth:NAME`` as the bundled file's path; any other location unchanged."""
    return str(path(uri[len(SCHEME):])) if is_bundled(uri) else uri
