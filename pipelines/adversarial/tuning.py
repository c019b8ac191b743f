"""The tuning variant: the detector-guided search as a SageMaker hyperparameter tuning job.

``get_pipeline(tuning=True)`` replaces the ``FitGenerator`` training job by ``TuneGenerator``,
a tuning job whose every training job is one candidate of ``advsynth run --adversarial``'s
search (the generator image's ``generator-trial-train``, selected by ``ADVSYNTH_ROLE`` in
the job's environment because tuning jobs cannot set a container entrypoint):

* each trial fits the candidate on the selection-fit split of the generator's training rows
  and lets the detector (the ``Detector*`` parameters, as JSON) tell its draws from the
  selection-validation split, with ``advsynth.synthesizers.adversarial.SelectionJudge``,
  the in-process search's own scoring; the holdout is never read;
* the objective ``selection:objective`` (Minimize) is that AUC, or 1 when the search's copy rule
  refuses the candidate (its draws copy selection-fit rows more often than unseen rows do),
  so a copying candidate never becomes the best training job;
* each trial then refits its settings on all the generator's training rows and writes the
  model as ``generator-train`` does, so ``SampleSynthetic`` reads the best training job's
  ``model.tar.gz`` unchanged.

The search space: ``n_components`` (integer, logarithmic, ``TuningMinComponents`` ..
``TuningMaxComponents``), ``pca_variance`` (continuous, ``TuningMinPcaVariance`` ..
``TuningMaxPcaVariance``) and ``covariance_type`` (categorical). ``TuningMaxJobs`` and
``TuningParallelJobs`` bound the job. The in-process search is a coordinate search from the
configured model; the tuning job's Bayesian strategy explores the same ranges with more trials
in parallel, and the final verdict stays the pipeline's fresh detector on fresh draws.

What SDK 3.27's ``HyperparameterTuner`` does not carry into the request, ``_TuningStep`` adds
(checked by building the definition): pipeline parameters as resource limits (its pydantic
``ResourceLimits`` accepts plain ints only; the service accepts parameter references there, as
SDK v2 wrote them), network isolation and the volume KMS key of the training jobs.

Local mode cannot run it: the SDK's local pipeline executor runs Training, Processing,
Transform, CreateModel, Condition and Fail steps only (``sagemaker.mlops.local``), and its
local SageMaker client has no ``create_hyper_parameter_tuning_job``; ``get_pipeline`` refuses
``local=True, tuning=True`` in one line. The definition is tested offline and the trial
in-process (tests/test_tuning.py).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List

STEP_TUNE_GENERATOR = "TuneGenerator"
# The image's `train` runs `python -m advsynth.sagemaker ${ADVSYNTH_ROLE}-train`.
TRIAL_ROLE = "generator-trial"
OBJECTIVE_METRIC = "selection:objective"   # advsynth.sagemaker.entrypoints.TRIAL_OBJECTIVE
OBJECTIVE_TYPE = "Minimize"
STRATEGY = "Bayesian"
COVARIANCE_TYPES = ["full", "diag"]
LOCAL_MODE_MESSAGE = ("SageMaker local mode cannot run a tuning job (its local pipeline executor runs Training, "
                      "Processing, Transform, CreateModel, Condition and Fail steps); run 'advsynth run --adversarial' "
                      "locally, or deploy the tuning variant to AWS")

_FLOAT = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
TRIAL_METRICS = {
    OBJECTIVE_METRIC: r"selection:objective: " + _FLOAT,
    "validation:auc": r"validation:auc: " + _FLOAT,
    "validation:exact_copy_rate": r"validation:exact_copy_rate: " + _FLOAT,
    "generator:n_components": r"n_components: ([0-9]+)",
}

# name -> (kind, default). The tuning job searches k and PCA, which the in-process search keeps
# at the configured values (its k = 320 stage was dropped for privacy); every trial is judged by
# the same SelectionJudge (AUC and exact-copy rate), and it may look wide because trials run in parallel.
TUNING_PARAMETERS = {
    "TuningMaxJobs": (int, 8),
    "TuningParallelJobs": (int, 2),
    "TuningMinComponents": (int, 60),
    "TuningMaxComponents": (int, 320),
    "TuningMinPcaVariance": (float, 0.95),
    "TuningMaxPcaVariance": (float, 0.995),
}


def tuning_parameters() -> List[Any]:
    """The tuning variant's extra pipeline parameters, each with a default (schedules need one)."""
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger

    return [(ParameterInteger if kind is int else ParameterFloat)(name=name, default_value=default)
            for name, (kind, default) in TUNING_PARAMETERS.items()]


def detector_json(p: Dict[str, Any], detector_parameters: Dict[str, str]):
    """The ``Detector*`` parameters as one JSON object of DetectorConfig fields (a ``Join``),
    the trial's ``detector`` hyperparameter: the search's detector is the pipeline's."""
    from sagemaker.core.workflow.functions import Join

    from advsynth.protocol import DetectorConfig

    values: List[Any] = []
    for i, (field, name) in enumerate(detector_parameters.items()):
        values += [("{" if i == 0 else ", ") + json.dumps(field) + ": ", p[name]]
    values.append(', "params": ' + json.dumps(DetectorConfig().params, sort_keys=True) + "}")
    return Join(on="", values=values)


def _tuning_step_class():
    from sagemaker.mlops.workflow.steps import TuningStep

    class _TuningStep(TuningStep):
        """A TuningStep whose request also carries what SDK 3.27's tuner leaves out (see module doc)."""

        def __init__(self, *args, extra_limits: Dict[str, Any], network_isolation: bool, volume_kms_key, **kwargs):
            super().__init__(*args, **kwargs)
            self._extra_limits = extra_limits
            self._network_isolation = network_isolation
            self._volume_kms_key = volume_kms_key

        @property
        def arguments(self):
            request = super().arguments
            request["HyperParameterTuningJobConfig"]["ResourceLimits"].update(self._extra_limits)
            definition = request["TrainingJobDefinition"]
            definition["EnableNetworkIsolation"] = self._network_isolation
            if self._volume_kms_key:
                definition["ResourceConfig"]["VolumeKmsKeyId"] = self._volume_kms_key
            return request

    return _TuningStep


def tuning_step(make_trainer: Callable[..., Any], image: str, hyperparameters: Dict[str, Any], p: Dict[str, Any],
                input_data: List[Any], detector_parameters: Dict[str, str], network_isolation: bool,
                kms_key=None):
    """The ``TuneGenerator`` step: ``make_trainer(image, step_name, hyperparameters, metrics)`` is
    the pipeline's ModelTrainer factory, ``hyperparameters`` FitGenerator's (the tuned ones are
    replaced by their ranges), ``input_data`` its ``train`` channel."""
    from sagemaker.core.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
    from sagemaker.train.tuner import HyperparameterTuner

    static = {**hyperparameters, "detector": detector_json(p, detector_parameters)}
    trial = make_trainer(image, STEP_TUNE_GENERATOR, static, TRIAL_METRICS)
    trial.environment = {"ADVSYNTH_ROLE": TRIAL_ROLE}
    tuner = HyperparameterTuner(
        trial,
        objective_metric_name=OBJECTIVE_METRIC,
        objective_type=OBJECTIVE_TYPE,
        hyperparameter_ranges={
            "n_components": IntegerParameter(p["TuningMinComponents"], p["TuningMaxComponents"], "Logarithmic"),
            "pca_variance": ContinuousParameter(p["TuningMinPcaVariance"], p["TuningMaxPcaVariance"]),
            "covariance_type": CategoricalParameter(COVARIANCE_TYPES),
        },
        metric_definitions=[{"Name": name, "Regex": regex} for name, regex in TRIAL_METRICS.items()],
        strategy=STRATEGY,
        # placeholders: the SDK's ResourceLimits takes ints only; _TuningStep puts the parameters in
        max_jobs=TUNING_PARAMETERS["TuningMaxJobs"][1],
        max_parallel_jobs=TUNING_PARAMETERS["TuningParallelJobs"][1],
        random_seed=p["Seed"],
    )
    return _tuning_step_class()(
        name=STEP_TUNE_GENERATOR,
        description="Search the generator's settings: each training job scores one candidate by a detector's AUC "
                    "on the selection-validation split (the holdout stays unseen) and saves it refitted.",
        step_args=tuner.tune(inputs=input_data),
        extra_limits={"MaxNumberOfTrainingJobs": p["TuningMaxJobs"], "MaxParallelTrainingJobs": p["TuningParallelJobs"]},
        network_isolation=network_isolation,
        volume_kms_key=kms_key,
    )


def best_model_uri(step, run_prefix: Callable[..., Any]):
    """S3 URI of the best training job's ``model.tar.gz``: ``<S3OutputPath>/<job>/output/model.tar.gz``,
    the job named by the tuning job's ``BestTrainingJob`` (what ``TuningStep.get_top_model_s3_uri(0, ...)``
    builds from a bucket and key prefix; the output path here is ``OutputPrefix``-based, an S3 URI)."""
    return run_prefix(STEP_TUNE_GENERATOR, step.properties.BestTrainingJob.TrainingJobName, "output", "model.tar.gz")
