"""advsynth: adversarial evaluation of synthetic tabular data.

Fit a generator (``GMMSynthesizer``, ``BaselineSynthesizer``) on a real table, sample a
synthetic one, and ask an XGBoost detector to tell them apart (``detect``).
"""

import os as _os

# Before XGBoost loads its OpenMP runtime: threads waiting for work sleep instead of spinning.
# Spinning threads on a busy machine burned 4x the CPU of one thread for no gain (see
# DetectorConfig.nthread); a user's own setting is kept.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ._version import __version__  # noqa: E402
from .detection import DetectionResult, detect  # noqa: E402
from .errors import AdvsynthError, ConfigError, InputError  # noqa: E402
from .evaluation import evaluate_synthetic  # noqa: E402
from .protocol import DetectorConfig  # noqa: E402
from .schema import Schema, infer_schema  # noqa: E402
from .synthesizers import BaselineSynthesizer, GMMSynthesizer, make_generator  # noqa: E402

__all__ = [
    "AdvsynthError", "BaselineSynthesizer", "ConfigError", "DetectionResult", "DetectorConfig", "GMMSynthesizer",
    "InputError", "Schema", "__version__", "detect", "evaluate_synthetic", "infer_schema", "make_generator",
]
