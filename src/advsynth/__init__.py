"""advsynth: adversarial evaluation of synthetic tabular data.

Fit a generator (``GMMSynthesizer``, ``BaselineSynthesizer``) on a real table, sample a
synthetic one, and ask an XGBoost detector to tell them apart (``detect``).
"""

__version__ = "0.1.0"

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
