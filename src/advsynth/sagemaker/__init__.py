"""SageMaker front door: the /opt/ml container contract and the pipeline's entrypoints.

``python -m advsynth.sagemaker generator-train|sample|detector-train|evaluate``;
see ``contract`` (paths, hyperparameters, failure file) and ``entrypoints``.
"""

from .contract import read_hyperparameters, run_entrypoint

__all__ = ["read_hyperparameters", "run_entrypoint"]
