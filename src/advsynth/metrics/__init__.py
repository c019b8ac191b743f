"""Metrics comparing a synthetic table with the real one: fidelity, privacy and utility.

Every metric is a pure function of DataFrames and explicit column lists (``numeric``,
``categorical``, optional ``datetime``) returning JSON-ready dicts/floats, so results can
be written straight into run reports. Bad inputs raise ``MetricInputError`` (both a
``ValueError`` and an ``advsynth.errors.InputError``).
"""

from .fidelity import (
    MISSING_LEVEL,
    MetricInputError,
    association_difference,
    conditional_difference,
    correlation_difference,
    cramers_v,
    fidelity_report,
    marginals,
)
from .privacy import exact_match_rate, privacy_report
from .utility import tstr, utility_report

__all__ = [
    "MISSING_LEVEL",
    "MetricInputError",
    "association_difference",
    "conditional_difference",
    "correlation_difference",
    "cramers_v",
    "exact_match_rate",
    "fidelity_report",
    "marginals",
    "privacy_report",
    "tstr",
    "utility_report",
]
