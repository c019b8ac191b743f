"""Adversarial evaluation of synthetic tabular data as a SageMaker pipeline.

The same experiment as ``advsynth run``, each step a container run; this module holds no
data logic, it only wires the containers together following the SageMaker MLOps
project-template convention (``get_pipeline(...) -> Pipeline``):

1. ``FitGenerator`` (training job, generator image ``train``): types the real table with
   the config's column types (``ColumnTypes``, JSON) and fits the PCA+GMM generator on the
   rows ``split_real(real, Seed, Holdout)`` keeps for training; the model artifact holds
   ``generator.joblib`` and ``schema.json``.
2. ``SampleSynthetic`` (processing job on ``SampleInstanceCount`` instances, generator
   image ``python -m advsynth.sagemaker sample``): each instance draws its share of the
   synthetic table's seed blocks (the union is the table one instance draws for ``Seed``)
   and writes its own shard files, ``synthetic/synthetic-SSSSS-of-NNNNN.csv`` and its rows
   among those the detector uses, ``selected/selected-SSSSS-of-NNNNN.csv``.
3. ``PrepareDetectorData`` (processing job, one instance, ``... prepare``): the selected
   rows and the real table become the detector's three splits (label first, no header):
   train (in ``DetectorInstanceCount`` files), validation (early stopping only, carved from
   the training rows) and test (scored only), plus the feature mapping. Its cost is bounded
   by ``max_rows_per_class`` rows of each class, whatever the table's size.
4. ``TrainDetector`` (training job on ``DetectorInstanceCount`` instances, XGBoost-compatible
   image): trains a real-vs-synthetic classifier under the built-in XGBoost algorithm
   contract, with ``early_stopping_rounds`` on the validation channel; the train channel is
   ``ShardedByS3Key``, so with several instances each reads its own files and XGBoost trains
   distributed (the built-in image does this itself; ``advsynth-detector`` too).
5. ``EvaluateDetector`` (processing job, generator image
   ``python -m advsynth.sagemaker evaluate``): ROC AUC with CI on the test split,
   precision, recall, p-value, the real-vs-real null, per-column importance and the
   giveaways (surest-fake rows, over/under-represented levels), in ``evaluation.json``
   with the keys of ``metrics.json``'s ``detector`` section.
   The generator's model artifact carries the real table's split (``split.json``), so the step
   also runs the privacy adversary on the rows the fit used and the holdout it never saw
   (``evaluation.json``'s ``privacy``, as in ``metrics.json``).
6. ``AucGate`` (condition): fails the execution when the detector separates real
   from synthetic too well (ROC AUC above ``AucThreshold``). Beside it ``PrivacyGate`` fails
   the execution when the privacy adversary flags the synthetic rows as copies of training rows
   (``privacy.flagged``), unless the ``PrivacyGate`` parameter is ``off``. The evaluate-only
   variant has no holdout, hence no privacy verdict and no ``PrivacyGate``.

``get_pipeline(evaluate_only=True)`` is the bring-your-own-synthetic-table variant: no
generator steps; ``PrepareDetectorData`` reads ``SyntheticDataUri`` instead of the selected
rows, and steps 4-6 are the same. (A separate pipeline rather than a ConditionStep: the later
steps read the splits' S3 URIs as step properties, which cannot come from whichever of two
condition branches ran.)

``get_pipeline(tuning=True)`` replaces step 1 by ``TuneGenerator``, a hyperparameter tuning
job whose trials are ``advsynth run --adversarial``'s candidates, judged by a detector on the
selection split of the training rows; ``SampleSynthetic`` reads the best trial's model (see
``pipelines.adversarial.tuning``; not in local mode, which has no tuning jobs).

Every detector setting is a ``advsynth.protocol.DetectorConfig`` field: the ``Detector*``
parameters' defaults are ``DetectorConfig()``'s, and the same values reach the sample and
evaluate steps as options and the training step as built-in hyperparameters. Every
parameter has a default because EventBridge schedules cannot pass parameters. Every
output goes under ``OutputPrefix/<execution id>/<step>/...`` so that executions never
overwrite each other's artifacts.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from advsynth.protocol import carried
from advsynth.synthesizers import pipeline_parameter_name
from advsynth.synthesizers.gmm import GMMSynthesizer

if TYPE_CHECKING:  # pragma: no cover - typing only
    from sagemaker.mlops.workflow.pipeline import Pipeline

# Names shared with tests, deploy and the local runner.
STEP_FIT_GENERATOR = "FitGenerator"
STEP_SAMPLE = "SampleSynthetic"
STEP_TRAIN_DETECTOR = "TrainDetector"
STEP_EVALUATE = "EvaluateDetector"
STEP_GATE = "AucGate"
STEP_FAIL = "AucAboveThreshold"
STEP_PRIVACY_GATE = "PrivacyGate"
STEP_PRIVACY_FAIL = "PrivacyFlagged"
STEP_PREPARE = "PrepareDetectorData"
STEP_NAMES = [STEP_FIT_GENERATOR, STEP_SAMPLE, STEP_PREPARE, STEP_TRAIN_DETECTOR, STEP_EVALUATE, STEP_GATE,
              STEP_PRIVACY_GATE]
EVALUATE_ONLY_STEP_NAMES = [STEP_PREPARE, STEP_TRAIN_DETECTOR, STEP_EVALUATE, STEP_GATE]

# gmm parameter -> pipeline parameter (names, types and defaults from the GMM generator: its
# ``_pipeline_parameters``, their declared constraints and its signature). fit_rows and redraw
# travel as strings: "none" fits on every training row / redraws nothing; redraw: "auto", "all" or a JSON list;
# a boolean (privacy_guard) as "true"/"false".
GENERATOR_PARAMETERS = {name: pipeline_parameter_name(name) for name in GMMSynthesizer._pipeline_parameters}
# DetectorConfig field -> pipeline parameter (names and defaults from DetectorConfig's field metadata).
DETECTOR_PARAMETERS = carried("parameter")

EVALUATION_PROPERTY_FILE = "EvaluationReport"
EVALUATION_OUTPUT = "evaluation"
EVALUATION_FILE = "evaluation.json"

DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"
LOCAL_INSTANCE_TYPE = "local"
LOCAL_DETECTOR_IMAGE = "advsynth-detector:latest"
XGBOOST_VERSION = "1.7-1"
# An ARN is only syntactically needed in local mode: the local client discards it.
LOCAL_PLACEHOLDER_ROLE = "arn:aws:iam::000000000000:role/advsynth-local-mode"

# Container paths of the contract between this pipeline and advsynth.sagemaker.
PROCESSING_ROOT = "/opt/ml/processing"
SAMPLE_ENTRYPOINT = ["python", "-m", "advsynth.sagemaker", "sample"]
PREPARE_ENTRYPOINT = ["python", "-m", "advsynth.sagemaker", "prepare"]
EVALUATE_ENTRYPOINT = ["python", "-m", "advsynth.sagemaker", "evaluate"]

# Metric regexes. The generator prints ``name: value`` lines. Built-in XGBoost
# prints ``[<round>]#011train-auc:<v>#011validation-auc:<v>`` (the tab shows as
# #011 in CloudWatch); a literal tab or space separator is accepted too.
_FLOAT = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
GENERATOR_METRICS = {
    "generator:criterion_value": r"(?:aic|bic): " + _FLOAT,  # the chosen k's AIC or BIC
    "generator:n_components": r"n_components: ([0-9]+)",
    "generator:fit_seconds": r"fit_seconds: " + _FLOAT,
}
DETECTOR_METRICS = {
    "train:auc": r".*\[[0-9]+\].*(?:#011|\s)train-auc:([-+]?[0-9]*\.?[0-9]+)",
    "validation:auc": r".*\[[0-9]+\].*(?:#011|\s)validation-auc:([-+]?[0-9]*\.?[0-9]+)",
}


def ensure_sdk_importable(region: Optional[str] = None) -> None:
    """Give boto3 a region before ``sagemaker.mlops`` is imported.

    Why: importing ``sagemaker.mlops`` creates a ``boto3.client("sagemaker")`` at
    import time (SDK 3.27), which raises ``NoRegionError`` when no region is
    configured. Only fills the gap; an existing configuration is left alone.
    """
    if os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION"):
        return
    import boto3

    if boto3.Session().region_name is None:
        os.environ["AWS_DEFAULT_REGION"] = region or "us-east-1"


def opt_out_telemetry(session: Any) -> Any:
    """Set ``TelemetryOptOut`` in a session's SDK config and return the session.

    Why: decorated SDK calls otherwise try to reach an AWS telemetry bucket, which
    offline (definition printing, local runs) only logs tracebacks. The SDK reads
    the flag from ``session.sagemaker_config``. Cost: with a non-empty config the
    SDK re-validates it against its JSON schema on every config lookup (about
    0.5 s each in 3.27.0, some 10 s for one definition), so this is opt-in.
    """
    config = getattr(session, "sagemaker_config", None)
    if not isinstance(config, dict):
        config = {}
    config.setdefault("SchemaVersion", "1.0")
    modules = (
        config.setdefault("SageMaker", {}).setdefault("PythonSDK", {}).setdefault("Modules", {})
    )
    modules["TelemetryOptOut"] = True
    session.sagemaker_config = config
    return session


def get_session(region: Optional[str] = None, default_bucket: Optional[str] = None,
                local: bool = False, telemetry_opt_out: bool = False):
    """Build the session the steps are composed with.

    Why a pipeline session: under a ``PipelineSession`` the job classes
    (``ModelTrainer.train``, ``Processor.run``) capture their request instead of
    starting a job, which is what a step needs. Local mode needs the **core**
    ``LocalPipelineSession`` so that the captured requests are later run by the
    local client (see ``pipelines.run_pipeline``). ``telemetry_opt_out`` sets the
    SDK's TelemetryOptOut flag (see ``opt_out_telemetry`` for its cost).
    """
    ensure_sdk_importable(region)
    import boto3

    boto_session = boto3.Session(region_name=region) if region else boto3.Session()
    if local:
        from sagemaker.core.workflow.pipeline_context import LocalPipelineSession

        session = LocalPipelineSession(boto_session=boto_session, default_bucket=default_bucket)
    else:
        from sagemaker.core.workflow.pipeline_context import PipelineSession

        session = PipelineSession(
            boto_session=boto_session,
            sagemaker_client=boto_session.client("sagemaker"),
            default_bucket=default_bucket,
        )
    return opt_out_telemetry(session) if telemetry_opt_out else session


def xgboost_image_uri(region: str, version: str = XGBOOST_VERSION) -> str:
    """URI of the built-in SageMaker XGBoost image (resolved offline from SDK data)."""
    ensure_sdk_importable(region)
    from sagemaker.core import image_uris

    return image_uris.retrieve("xgboost", region=region, version=version)


def redraw_text(redraw) -> str:
    """The gmm's ``redraw`` as the pipeline's string parameter (``advsynth.sagemaker`` parses it back)."""
    if redraw is None or redraw in ("auto", "all"):
        return "none" if redraw is None else redraw
    return json.dumps(list(redraw))


def bool_text(value: bool) -> str:
    """A boolean generator parameter as its pipeline parameter carries it: the container
    contract's words (``advsynth.sagemaker.contract.BOOL_WORDS``), which it reads back."""
    from advsynth.sagemaker.contract import BOOL_WORDS

    return next(word for word, meaning in BOOL_WORDS.items() if meaning is bool(value))


def _gmm_defaults() -> Dict[str, Any]:
    """The GMM generator's own defaults (its signature), so the pipeline writes none of its own."""
    import inspect

    from advsynth.synthesizers.gmm import GMMSynthesizer

    return {name: prm.default for name, prm in inspect.signature(GMMSynthesizer.__init__).parameters.items()
            if prm.default is not inspect.Parameter.empty}


def get_parameters(default_bucket: str = "advsynth-artifacts", base_job_prefix: str = "advsynth",
                   local: bool = False, region: str = "us-east-1", evaluate_only: bool = False,
                   tuning: bool = False) -> List[Any]:
    """Return the pipeline parameters, every one with a default.

    Why defaults everywhere: a scheduled (EventBridge) execution cannot pass
    parameters, and ``Pipeline.put_triggers`` refuses parameters without one.
    ``local=True`` swaps the instance types for ``"local"`` and the detector image
    for a locally built one, which is all local mode needs to differ in.
    """
    ensure_sdk_importable()
    from sagemaker.core.workflow.parameters import (
        ParameterFloat,
        ParameterInteger,
        ParameterString,
    )

    from advsynth.config import RunConfig
    from advsynth.protocol import DetectorConfig

    instance_type = LOCAL_INSTANCE_TYPE if local else DEFAULT_INSTANCE_TYPE
    data = [
        ParameterString(
            name="InputDataUri",
            default_value=f"s3://{default_bucket}/{base_job_prefix}/input/real.csv",
        ),
        # The config's column types (data.types) as a JSON object; "{}" infers every type.
        ParameterString(name="ColumnTypes", default_value="{}"),
    ]
    if evaluate_only:
        data.append(ParameterString(
            name="SyntheticDataUri",
            default_value=f"s3://{default_bucket}/{base_job_prefix}/input/synthetic.csv",
        ))
    else:
        data += [
            ParameterInteger(name="SampleRows", default_value=0),
            # Sampling instances: each draws a contiguous share of the 100,000-row seed blocks.
            ParameterInteger(name="SampleInstanceCount", default_value=1),
            ParameterFloat(name="Holdout", default_value=RunConfig.__dataclass_fields__["holdout"].default),
        ]
        for field, name in GENERATOR_PARAMETERS.items():
            value = _gmm_defaults()[field]
            if field == "fit_rows" or value is None:   # may be None: "none" as a string
                data.append(ParameterString(name=name, default_value="none" if value is None else str(value)))
            elif isinstance(value, bool):  # before int: a bool is an int; "true"/"false", as JSON writes them
                data.append(ParameterString(name=name, default_value=bool_text(value),
                                             enum_values=[bool_text(True), bool_text(False)]))
            elif isinstance(value, float):
                data.append(ParameterFloat(name=name, default_value=value))
            elif isinstance(value, int):
                data.append(ParameterInteger(name=name, default_value=value))
            else:
                data.append(ParameterString(name=name, default_value=str(value)))
        if tuning:  # the tuning variant's search space and job bounds (pipelines.adversarial.tuning)
            from pipelines.adversarial.tuning import tuning_parameters

            data += tuning_parameters()
    defaults = DetectorConfig()
    detector = [
        (ParameterInteger if isinstance(getattr(defaults, field), int) else ParameterFloat)(
            name=name, default_value=getattr(defaults, field))
        for field, name in DETECTOR_PARAMETERS.items()
    ]
    return data + [
        ParameterInteger(name="Seed", default_value=0),
        ParameterFloat(name="AucThreshold", default_value=0.75),
        *([] if evaluate_only else [ParameterString(name="PrivacyGate", default_value="on", enum_values=["on", "off"])]),
        ParameterString(name="TrainingInstanceType", default_value=instance_type),
        # Detector training instances (distributed XGBoost over ShardedByS3Key training files).
        ParameterInteger(name="DetectorInstanceCount", default_value=1),
        ParameterString(name="ProcessingInstanceType", default_value=instance_type),
        ParameterString(
            name="DetectorImage",
            # The built-in XGBoost image on AWS; any image following its contract works.
            default_value=LOCAL_DETECTOR_IMAGE if local else xgboost_image_uri(region),
        ),
        *detector,
        ParameterString(
            name="OutputPrefix",
            default_value=f"s3://{default_bucket}/{base_job_prefix}/runs",
        ),
    ]


def get_pipeline(
    region: Optional[str] = None,
    role: Optional[str] = None,
    default_bucket: Optional[str] = None,
    pipeline_name: str = "AdvsynthAdversarial",
    base_job_prefix: str = "advsynth",
    sagemaker_session: Any = None,
    generator_image: str = "advsynth-generator:latest",
    kms_key: Optional[str] = None,
    network_isolation: bool = True,
    local: bool = False,
    evaluate_only: bool = False,
    tuning: bool = False,
) -> "Pipeline":
    """Build the adversarial evaluation pipeline.

    Args:
        region: AWS region of the session built when ``sagemaker_session`` is None.
        role: execution role of the jobs. Required on AWS; in local mode a
            placeholder is used because the local client discards it.
        default_bucket: bucket of the default ``InputDataUri`` and ``OutputPrefix``
            (the session's default bucket if None, which needs AWS access).
        pipeline_name: name of the pipeline.
        base_job_prefix: prefix of job names and of default S3 keys.
        sagemaker_session: a ``PipelineSession`` (or the core ``LocalPipelineSession``
            when ``local``); built from ``region``/``default_bucket`` when None.
        generator_image: image with ``advsynth`` installed; runs ``train`` for
            FitGenerator and ``python -m advsynth.sagemaker ...`` for processing.
            Not a parameter because the image is what the pipeline is a release of.
        kms_key: KMS key for job volumes and outputs (and S3 output encryption).
        network_isolation: isolate all four job containers; none of them needs
            the network because SageMaker moves their data.
        local: compose for SageMaker local mode (instance types ``"local"``,
            locally built detector image, core ``LocalPipelineSession``).
        evaluate_only: judge the synthetic table at ``SyntheticDataUri`` instead of
            fitting and sampling the generator (no FitGenerator step).
        tuning: choose the generator's settings by a detector (``TuneGenerator``, a
            hyperparameter tuning job; see ``pipelines.adversarial.tuning``) instead of
            fitting the configured ones (``FitGenerator``). Not in local mode.

    Returns:
        A ``sagemaker.mlops.workflow.pipeline.Pipeline``.
    """
    ensure_sdk_importable(region)
    from sagemaker.core.network import NetworkConfig
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import (
        ProcessingInput,
        ProcessingOutput,
        ProcessingS3Input,
        ProcessingS3Output,
        S3DataSource,
    )
    from sagemaker.core.training.configs import (
        Compute,
        InputData,
        MetricDefinition,
        Networking,
        OutputDataConfig,
    )
    from sagemaker.core.workflow.conditions import ConditionEquals, ConditionLessThanOrEqualTo
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
    from sagemaker.train.model_trainer import ModelTrainer

    if tuning and (local or evaluate_only):
        from advsynth.errors import ConfigError
        from pipelines.adversarial.tuning import LOCAL_MODE_MESSAGE

        raise ConfigError(LOCAL_MODE_MESSAGE if local else "the evaluate-only variant has no generator to tune")
    if sagemaker_session is None:
        sagemaker_session = get_session(region, default_bucket, local=local)
    if role is None:
        if not local:
            raise ValueError(
                "role is required: the SageMaker execution role ARN the jobs run as"
            )
        role = LOCAL_PLACEHOLDER_ROLE
    bucket = default_bucket or sagemaker_session.default_bucket()

    params = get_parameters(
        default_bucket=bucket,
        base_job_prefix=base_job_prefix,
        local=local,
        region=sagemaker_session.boto_region_name or "us-east-1",
        evaluate_only=evaluate_only,
        tuning=tuning,
    )
    p = {param.name: param for param in params}
    input_data_uri = p["InputDataUri"]
    seed = p["Seed"]

    def run_prefix(*parts: str):
        """S3 prefix of this execution: OutputPrefix/<execution id>/<parts...>."""
        return Join(
            on="/",
            values=[p["OutputPrefix"], ExecutionVariables.PIPELINE_EXECUTION_ID, *parts],
        )

    networking = Networking(enable_network_isolation=network_isolation)
    processing_network = NetworkConfig(enable_network_isolation=network_isolation)

    def trainer(image, step_name, hyperparameters, metrics, instance_count=1) -> ModelTrainer:
        """A ModelTrainer for a bring-your-own-container job (no source code).

        Why no ``source_code``: the image's own ``train`` command is the contract,
        so the SDK's driver scripts must not be injected.
        """
        return ModelTrainer(
            training_image=image,
            role=role,
            sagemaker_session=sagemaker_session,
            base_job_name=f"{base_job_prefix}-{step_name.lower()}",
            compute=Compute(
                instance_type=p["TrainingInstanceType"],
                instance_count=instance_count,
                volume_size_in_gb=30,
                volume_kms_key_id=kms_key,
            ),
            networking=networking,
            output_data_config=OutputDataConfig(
                s3_output_path=run_prefix(step_name),
                kms_key_id=kms_key,
                compression_type="GZIP",
            ),
            hyperparameters=hyperparameters,
        ).with_metric_definitions(
            [MetricDefinition(name=name, regex=regex) for name, regex in metrics.items()]
        )

    def processor(entrypoint: List[str], step_name: str, instance_count=1) -> Processor:
        return Processor(
            role=role,
            image_uri=generator_image,
            instance_count=instance_count,
            instance_type=p["ProcessingInstanceType"],
            entrypoint=list(entrypoint),
            volume_kms_key=kms_key,
            output_kms_key=kms_key,
            base_job_name=f"{base_job_prefix}-{step_name.lower()}",
            sagemaker_session=sagemaker_session,
            network_config=processing_network,
        )

    def s3_input(name: str, source, local_dir: str) -> ProcessingInput:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=source,
                local_path=f"{PROCESSING_ROOT}/{local_dir}",
                s3_data_type="S3Prefix",
                s3_input_mode="File",
                s3_data_distribution_type="FullyReplicated",
            ),
        )

    def s3_output(name: str, local_dir: str, step_name: str) -> ProcessingOutput:
        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(
                s3_uri=run_prefix(step_name, name),
                local_path=f"{PROCESSING_ROOT}/{local_dir}",
                s3_upload_mode="EndOfJob",
            ),
        )

    # The detector protocol, once: options for the processing steps, built-in
    # hyperparameters for the training step, every value a pipeline parameter whose
    # default is DetectorConfig()'s (DetectorConfig.params travel as they are).
    from advsynth.protocol import DetectorConfig
    from advsynth.sagemaker.entrypoints import DETECTOR_OPTION_FIELDS

    detector_params_json = json.dumps(DetectorConfig().params, sort_keys=True)
    detector_args: List[Any] = []
    for field in DETECTOR_OPTION_FIELDS:
        detector_args += ["--" + field.replace("_", "-"), p[DETECTOR_PARAMETERS[field]].to_string()]
    detector_args += ["--detector-params", detector_params_json]

    def split_outputs(step_name: str) -> List[ProcessingOutput]:
        """The detector's splits and feature mapping, as the prepare command writes them."""
        return [s3_output(name, local_dir, step_name) for name, local_dir in (
            ("train", "detector/train"), ("validation", "detector/validation"),
            ("test", "detector/test"), ("features", "detector/features"))]

    # The training split goes into one file per detector instance (ShardedByS3Key needs them).
    prepare_args = ["--seed", seed.to_string(), "--train-files", p["DetectorInstanceCount"].to_string(),
                    *detector_args]
    prepare_processor = processor(PREPARE_ENTRYPOINT, STEP_PREPARE)
    if evaluate_only:
        # 3'. PrepareDetectorData: the given synthetic table + detector splits.
        step_prepare = ProcessingStep(
            name=STEP_PREPARE,
            description="Read the given synthetic table and build the detector's splits.",
            step_args=prepare_processor.run(
                inputs=[
                    s3_input("given", p["SyntheticDataUri"], "given"),
                    s3_input("real", input_data_uri, "real"),
                ],
                outputs=[s3_output("synthetic", "synthetic", STEP_PREPARE), *split_outputs(STEP_PREPARE)],
                arguments=[*prepare_args, "--types", p["ColumnTypes"]],
            ),
        )
        synthetic_rows_uri = step_prepare.properties.ProcessingOutputConfig.Outputs["synthetic"].S3Output.S3Uri
        generation_steps = []
    else:
        # 1. FitGenerator: the image's `train` reads channel `train`, writes model.tar.gz.
        # Hyperparameters go through to_string() so hyperparameters.json holds strings
        # in both AWS and local mode (local mode would write raw ints/floats otherwise).
        fit_hyperparameters = {
            **{field: _as_string(p[name]) for field, name in GENERATOR_PARAMETERS.items()},
            "seed": seed.to_string(),
            "holdout": p["Holdout"].to_string(),
            "types": p["ColumnTypes"],
        }
        train_channel = [InputData(channel_name="train", data_source=input_data_uri, content_type="text/csv")]
        if tuning:  # 1'. TuneGenerator: one candidate per training job; the best one's model is sampled
            from pipelines.adversarial import tuning as _tuning

            step_fit = _tuning.tuning_step(trainer, generator_image, fit_hyperparameters, p, train_channel,
                                           DETECTOR_PARAMETERS, network_isolation, kms_key)
            generator_model = _tuning.best_model_uri(step_fit, run_prefix)
        else:
            fit_trainer = trainer(generator_image, STEP_FIT_GENERATOR, fit_hyperparameters, GENERATOR_METRICS)
            step_fit = TrainingStep(
                name=STEP_FIT_GENERATOR,
                description="Fit the PCA+GMM generator on the real table's training rows (the holdout stays unseen).",
                step_args=fit_trainer.train(input_data_config=train_channel),
            )
            generator_model = step_fit.properties.ModelArtifacts.S3ModelArtifacts

        # 2. SampleSynthetic on SampleInstanceCount instances: every instance writes its own
        # shard files (unique names) under the same two prefixes.
        sample_processor = processor(SAMPLE_ENTRYPOINT, STEP_SAMPLE, p["SampleInstanceCount"])
        step_sample = ProcessingStep(
            name=STEP_SAMPLE,
            description="Sample the synthetic table, one share of its seed blocks per instance.",
            step_args=sample_processor.run(
                inputs=[
                    s3_input("model", generator_model, "model"),
                    s3_input("real", input_data_uri, "real"),
                ],
                outputs=[s3_output("synthetic", "synthetic", STEP_SAMPLE),
                         s3_output("selected", "selected", STEP_SAMPLE)],
                arguments=["--rows", p["SampleRows"].to_string(), "--seed", seed.to_string(), *detector_args],
            ),
        )
        synthetic_rows_uri = step_sample.properties.ProcessingOutputConfig.Outputs["selected"].S3Output.S3Uri

        # 3. PrepareDetectorData: the selected rows (all shards) + the real table -> splits.
        step_prepare = ProcessingStep(
            name=STEP_PREPARE,
            description="Build the detector's splits from the rows the sample step selected.",
            step_args=prepare_processor.run(
                inputs=[
                    s3_input("model", generator_model, "model"),
                    s3_input("real", input_data_uri, "real"),
                    s3_input("selected", synthetic_rows_uri, "selected"),
                ],
                outputs=split_outputs(STEP_PREPARE),
                arguments=[*prepare_args, "--drawn-rows", p["SampleRows"].to_string()],
            ),
        )
        generation_steps = [step_fit, step_sample]
    split_uris = step_prepare.properties.ProcessingOutputConfig.Outputs

    # 4. TrainDetector: built-in XGBoost contract (CSV, label first, no header); early
    # stopping watches the validation channel (the last one), never the test rows.
    # DetectorInstanceCount instances: the train channel is ShardedByS3Key (each instance
    # gets its own files of the prepare step's DetectorInstanceCount), the validation
    # channel is replicated (every instance evaluates the same rows; the AUC is unchanged).
    # The built-in algorithm requires early_stopping_rounds >= 1 (its hyperparameter
    # validation rejects 0); advsynth's own detector image also accepts 0 (no early stopping).
    fixed = DetectorConfig().xgb_params()
    detector_hyperparameters = {
        "objective": fixed["objective"],
        "eval_metric": fixed["eval_metric"],
        "num_round": p["DetectorRounds"].to_string(),
        "max_depth": p["DetectorMaxDepth"].to_string(),
        "eta": p["DetectorEta"].to_string(),
        "colsample_bytree": p["DetectorColsampleBytree"].to_string(),
        "early_stopping_rounds": p["DetectorEarlyStoppingRounds"].to_string(),
        "seed": seed.to_string(),
        **{k: str(v) for k, v in DetectorConfig().params.items()},
    }
    # Local mode refuses ShardedByS3Key (it copies every file to every container); there the
    # advsynth-detector image takes its own share of the files (see entrypoints._train_files).
    train_distribution = "FullyReplicated" if local else "ShardedByS3Key"
    detector_trainer = trainer(
        p["DetectorImage"], STEP_TRAIN_DETECTOR, detector_hyperparameters, DETECTOR_METRICS,
        instance_count=p["DetectorInstanceCount"],
    )
    step_detector = TrainingStep(
        name=STEP_TRAIN_DETECTOR,
        description="Train the real-vs-synthetic XGBoost detector (early stopping on the validation split).",
        step_args=detector_trainer.train(
            input_data_config=[
                InputData(channel_name="train",
                          data_source=S3DataSource(s3_uri=split_uris["train"].S3Output.S3Uri,
                                                   s3_data_type="S3Prefix",
                                                   s3_data_distribution_type=train_distribution),
                          content_type="text/csv"),
                InputData(channel_name="validation",
                          data_source=S3DataSource(s3_uri=split_uris["validation"].S3Output.S3Uri,
                                                   s3_data_type="S3Prefix",
                                                   s3_data_distribution_type="FullyReplicated"),
                          content_type="text/csv"),
            ]
        ),
    )

    # 5. EvaluateDetector: evaluation.json, exposed to the gate as a property file.
    evaluation_report = PropertyFile(
        name=EVALUATION_PROPERTY_FILE, output_name=EVALUATION_OUTPUT, path=EVALUATION_FILE
    )
    evaluate_processor = processor(EVALUATE_ENTRYPOINT, STEP_EVALUATE)
    step_evaluate = ProcessingStep(
        name=STEP_EVALUATE,
        description="Score the detector on the held-out test split against a real-vs-real null.",
        step_args=evaluate_processor.run(
            inputs=[
                s3_input("model", step_detector.properties.ModelArtifacts.S3ModelArtifacts,
                         "model"),
                s3_input("test", split_uris["test"].S3Output.S3Uri, "test"),
                # the rows the detector saw: the sample step's selected shards (or the given table)
                s3_input("synthetic", synthetic_rows_uri, "synthetic"),
                s3_input("features", split_uris["features"].S3Output.S3Uri, "features"),
                s3_input("real", input_data_uri, "real"),
                # the split the generator was fitted with (split.json): the privacy adversary's members
                *([s3_input("generator", generator_model, "generator")] if not evaluate_only else []),
            ],
            outputs=[s3_output(EVALUATION_OUTPUT, "evaluation", STEP_EVALUATE)],
            arguments=["--seed", seed.to_string()],
        ),
        property_files=[evaluation_report],
    )

    # 6. AucGate: pass when the detector cannot tell real from synthetic well.
    roc_auc = JsonGet(
        step_name=step_evaluate.name,
        property_file=evaluation_report,
        json_path="detector.roc_auc",
    )
    step_fail = FailStep(
        name=STEP_FAIL,
        error_message=Join(
            on="",
            values=[
                "Detector ROC AUC ", roc_auc,
                " is above the threshold ", p["AucThreshold"],
                ": the synthetic rows are distinguishable from the real ones.",
            ],
        ),
    )
    step_gate = ConditionStep(
        name=STEP_GATE,
        description="Fail the execution when detector ROC AUC > AucThreshold.",
        conditions=[ConditionLessThanOrEqualTo(left=roc_auc, right=p["AucThreshold"])],
        if_steps=[],
        else_steps=[step_fail],
    )

    gates = [step_gate]
    if not evaluate_only:
        # PrivacyGate: fail when the privacy adversary flags the synthetic rows (and the gate is on).
        flagged = JsonGet(step_name=step_evaluate.name, property_file=evaluation_report, json_path="privacy.flagged")
        step_privacy_fail = FailStep(
            name=STEP_PRIVACY_FAIL,
            error_message=Join(on="", values=[
                "The privacy adversary flagged the synthetic rows as copies of the generator's training rows "
                "(evaluation.json, privacy.flags: ",
                JsonGet(step_name=step_evaluate.name, property_file=evaluation_report, json_path="privacy.flags[0].message"),
                "); set the PrivacyGate parameter to off to let such a table pass."]),
        )
        gates.append(ConditionStep(
            name=STEP_PRIVACY_GATE,
            description="Fail the execution when the privacy adversary flags the synthetic rows (PrivacyGate on).",
            conditions=[ConditionEquals(left=flagged, right=True), ConditionEquals(left=p["PrivacyGate"], right="on")],
            if_steps=[step_privacy_fail],
            else_steps=[],
        ))

    return Pipeline(
        name=pipeline_name,
        parameters=params,
        steps=[*generation_steps, step_prepare, step_detector, step_evaluate, *gates],
        sagemaker_session=sagemaker_session,
    )


def _as_string(param: Any) -> Any:
    """A parameter as hyperparameters.json needs it: strings stay, numbers via ``to_string()``."""
    return param if param.parameter_type.python_type is str else param.to_string()


def parameter_defaults(pipeline: "Pipeline") -> Dict[str, Any]:
    """Map parameter name to default value (for reports and tests)."""
    return {param.name: param.default_value for param in pipeline.parameters}



def parameters_for_config(cfg: Any, evaluate_only: bool = False) -> Dict[str, Any]:
    """The parameter values that make an execution the experiment ``advsynth run`` runs for ``cfg``
    (a ``RunConfig``): its seed, holdout, column types, synthetic row count, gmm settings and
    detector protocol. Settings the pipeline cannot carry are refused (ConfigError) rather
    than silently dropped, so a pipeline figure is never a different experiment's."""
    from advsynth.errors import ConfigError
    from advsynth.protocol import DetectorConfig

    detector = cfg.detector if isinstance(cfg.detector, DetectorConfig) else DetectorConfig.from_dict(cfg.detector)
    fixed = DetectorConfig()
    unsupported = [name for name in ("cv", "params") if getattr(detector, name) != getattr(fixed, name)]
    if not detector.null:
        unsupported.append("null")
    if unsupported:
        raise ConfigError(f"the pipeline runs the held-out protocol with the null and default detector params; "
                          f"the config sets detector {', '.join(unsupported)}")
    values: Dict[str, Any] = {"Seed": int(cfg.seed), "ColumnTypes": json.dumps(dict(cfg.data.types), sort_keys=True)}
    values.update({name: getattr(detector, field) for field, name in DETECTOR_PARAMETERS.items()})
    if not evaluate_only:
        if cfg.generator != "gmm":
            raise ConfigError(f"the pipeline's generator is gmm; the config names {cfg.generator!r}")
        gmm = cfg.generator_params("gmm")
        other = sorted(set(gmm) - set(GENERATOR_PARAMETERS))
        if other:
            raise ConfigError(f"the pipeline does not take gmm parameter(s) {', '.join(other)}; "
                              f"it takes {', '.join(GENERATOR_PARAMETERS)}")
        values.update({GENERATOR_PARAMETERS[k]: v for k, v in gmm.items()})
        if "fit_rows" in gmm:
            values["FitRows"] = "none" if gmm["fit_rows"] is None else str(gmm["fit_rows"])
        if "redraw" in gmm:
            values["Redraw"] = redraw_text(gmm["redraw"])
        values.update({GENERATOR_PARAMETERS[k]: bool_text(v) for k, v in gmm.items() if isinstance(v, bool)})
        values.update({"Holdout": float(cfg.holdout), "SampleRows": int(cfg.rows or 0)})
    return values
