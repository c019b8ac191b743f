"""The adversarial pipeline's definition, built offline (SDK 3.27, moto for any AWS call).

What is checked is the contract with the containers (step order and wiring,
paths, entrypoints, hyperparameters, metric regexes), the parameters a schedule
needs, the per-execution output prefixes, network isolation and the AUC gate.
"""

from __future__ import annotations

import json
import re

import pytest
from moto import mock_aws

ROLE = "arn:aws:iam::123456789012:role/AdvsynthTest"
BUCKET = "advsynth-test-bucket"
KMS = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
STEP_ORDER = ["FitGenerator", "SampleSynthetic", "TrainDetector", "EvaluateDetector", "AucGate"]
JOB_STEPS = STEP_ORDER[:4]


def _offline_env(mp: pytest.MonkeyPatch) -> None:
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    mp.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        mp.setenv(name, "testing")


def _build(**kwargs):
    """(pipeline, parsed definition) built with no real AWS call possible."""
    with pytest.MonkeyPatch.context() as mp, mock_aws():
        _offline_env(mp)
        from pipelines.get_pipeline_definition import definition
        from pipelines.adversarial.pipeline import get_pipeline, get_session

        local = kwargs.get("local", False)
        session = get_session("us-east-1", BUCKET, local=local)
        pipeline = get_pipeline(
            region="us-east-1", role=ROLE, default_bucket=BUCKET, sagemaker_session=session,
            **kwargs,
        )
        text = definition(role=ROLE, region="us-east-1", bucket=BUCKET,
                          sagemaker_session=session, **kwargs)
        return pipeline, json.loads(text)


@pytest.fixture(scope="module")
def built():
    return _build()


@pytest.fixture(scope="module")
def definition(built):
    return built[1]


@pytest.fixture(scope="module")
def steps(definition):
    return {step["Name"]: step for step in definition["Steps"]}


def _refs(obj, found=None):
    """Names of the steps an expression tree reads from (Get Steps.X... / property files)."""
    found = set() if found is None else found
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "Get" and isinstance(value, str) and value.startswith("Steps."):
                found.add(value.split(".")[1])
            else:
                _refs(value, found)
    elif isinstance(obj, list):
        for item in obj:
            _refs(item, found)
    return found


def _is_run_prefixed(uri, *tail):
    """A Join of OutputPrefix / execution id / tail..."""
    join = uri["Std:Join"]
    return (
        join["On"] == "/"
        and join["Values"][0] == {"Get": "Parameters.OutputPrefix"}
        and join["Values"][1] == {"Get": "Execution.PipelineExecutionId"}
        and list(join["Values"][2:]) == list(tail)
    )


def test_definition_is_json_with_the_five_steps_in_order(definition, built):
    assert [step["Name"] for step in definition["Steps"]] == STEP_ORDER
    assert [step["Type"] for step in definition["Steps"]] == [
        "Training", "Processing", "Training", "Processing", "Condition",
    ]
    # The SDK's own topological order agrees with the listed order.
    from sagemaker.mlops.workflow.pipeline import PipelineGraph

    graph_order = [step.name for step in PipelineGraph.from_pipeline(built[0])]
    assert graph_order[:5] == STEP_ORDER
    assert graph_order[5:] == ["AucAboveThreshold"]


def test_steps_depend_on_each_other_through_property_references(steps):
    expected = {
        "FitGenerator": set(),
        "SampleSynthetic": {"FitGenerator"},
        "TrainDetector": {"SampleSynthetic"},
        "EvaluateDetector": {"TrainDetector", "SampleSynthetic"},
        "AucGate": {"EvaluateDetector"},
    }
    for name, deps in expected.items():
        assert _refs(steps[name]["Arguments"]) == deps, name
        # No explicit DependsOn is needed (or, if present, it agrees).
        assert set(steps[name].get("DependsOn", [])) <= deps

    sample_inputs = {i["InputName"]: i["S3Input"] for i in
                     steps["SampleSynthetic"]["Arguments"]["ProcessingInputs"]}
    assert sample_inputs["model"]["S3Uri"] == {
        "Get": "Steps.FitGenerator.ModelArtifacts.S3ModelArtifacts"}
    assert sample_inputs["real"]["S3Uri"] == {"Get": "Parameters.InputDataUri"}

    channels = {c["ChannelName"]: c for c in
                steps["TrainDetector"]["Arguments"]["InputDataConfig"]}
    for name in ("train", "validation"):
        assert channels[name]["DataSource"]["S3DataSource"]["S3Uri"] == {
            "Get": f"Steps.SampleSynthetic.ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri"
        }
        assert channels[name]["ContentType"] == "text/csv"

    eval_inputs = {i["InputName"]: i["S3Input"] for i in
                   steps["EvaluateDetector"]["Arguments"]["ProcessingInputs"]}
    assert eval_inputs["model"]["S3Uri"] == {
        "Get": "Steps.TrainDetector.ModelArtifacts.S3ModelArtifacts"}
    assert eval_inputs["validation"]["S3Uri"] == {
        "Get": "Steps.SampleSynthetic.ProcessingOutputConfig.Outputs['validation'].S3Output.S3Uri"}
    assert eval_inputs["features"]["S3Uri"] == {
        "Get": "Steps.SampleSynthetic.ProcessingOutputConfig.Outputs['features'].S3Output.S3Uri"}
    assert eval_inputs["real"]["S3Uri"] == {"Get": "Parameters.InputDataUri"}


def test_parameters_exist_with_defaults(definition):
    params = {p["Name"]: p for p in definition["Parameters"]}
    expected = {
        "InputDataUri": ("String", f"s3://{BUCKET}/advsynth/input/real.csv"),
        "SampleRows": ("Integer", 0),
        "PcaVariance": ("Float", 0.99),
        "MinComponents": ("Integer", 1),
        "MaxComponents": ("Integer", 60),
        "Criterion": ("String", "aic"),
        "Seed": ("Integer", 0),
        "AucThreshold": ("Float", 0.75),
        "TrainingInstanceType": ("String", "ml.m5.xlarge"),
        "ProcessingInstanceType": ("String", "ml.m5.xlarge"),
        "DetectorRounds": ("Integer", 200),
        "OutputPrefix": ("String", f"s3://{BUCKET}/advsynth/runs"),
    }
    for name, (kind, default) in expected.items():
        assert params[name]["Type"] == kind, name
        assert params[name]["DefaultValue"] == default, name
    assert params["DetectorImage"]["Type"] == "String"
    # On AWS the default is the region's built-in XGBoost image.
    assert re.fullmatch(
        r"[0-9]{12}\.dkr\.ecr\.us-east-1\.amazonaws\.com/sagemaker-xgboost:[0-9.\-]+",
        params["DetectorImage"]["DefaultValue"],
    )
    # Schedules need a default for every parameter.
    assert all("DefaultValue" in p for p in definition["Parameters"])
    assert set(params) == set(expected) | {"DetectorImage"}


def test_network_isolation_on_all_jobs(steps):
    for name in ("FitGenerator", "TrainDetector"):
        assert steps[name]["Arguments"]["EnableNetworkIsolation"] is True
    for name in ("SampleSynthetic", "EvaluateDetector"):
        assert steps[name]["Arguments"]["NetworkConfig"]["EnableNetworkIsolation"] is True


def test_network_isolation_and_kms_are_configurable():
    _, definition = _build(network_isolation=False, kms_key=KMS)
    steps = {step["Name"]: step for step in definition["Steps"]}
    for name in ("FitGenerator", "TrainDetector"):
        args = steps[name]["Arguments"]
        assert args.get("EnableNetworkIsolation") in (False, None)
        assert args["OutputDataConfig"]["KmsKeyId"] == KMS
        assert args["ResourceConfig"]["VolumeKmsKeyId"] == KMS
    for name in ("SampleSynthetic", "EvaluateDetector"):
        args = steps[name]["Arguments"]
        assert args["NetworkConfig"]["EnableNetworkIsolation"] is False
        assert args["ProcessingOutputConfig"]["KmsKeyId"] == KMS
        assert args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KMS


def test_gate_compares_roc_auc_with_threshold(steps):
    gate = steps["AucGate"]["Arguments"]
    (condition,) = gate["Conditions"]
    assert condition["Type"] == "LessThanOrEqualTo"
    auc = {"Std:JsonGet": {
        "PropertyFile": {"Get": "Steps.EvaluateDetector.PropertyFiles.EvaluationReport"},
        "Path": "detector.roc_auc",
    }}
    assert condition["LeftValue"] == auc
    assert condition["RightValue"] == {"Get": "Parameters.AucThreshold"}
    assert gate["IfSteps"] == []
    (fail,) = gate["ElseSteps"]
    assert fail["Name"] == "AucAboveThreshold" and fail["Type"] == "Fail"
    message = fail["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert auc in message
    assert {"Get": "Parameters.AucThreshold"} in message
    assert steps["EvaluateDetector"]["PropertyFiles"] == [
        {"PropertyFileName": "EvaluationReport", "OutputName": "evaluation",
         "FilePath": "evaluation.json"}
    ]


def test_outputs_are_under_the_execution_prefix(steps):
    for name in ("FitGenerator", "TrainDetector"):
        assert _is_run_prefixed(steps[name]["Arguments"]["OutputDataConfig"]["S3OutputPath"],
                                name)
    expected = {
        "SampleSynthetic": {
            "synthetic": "/opt/ml/processing/synthetic",
            "train": "/opt/ml/processing/detector/train",
            "validation": "/opt/ml/processing/detector/validation",
            "features": "/opt/ml/processing/detector/features",
        },
        "EvaluateDetector": {"evaluation": "/opt/ml/processing/evaluation"},
    }
    for name, outputs in expected.items():
        got = {o["OutputName"]: o["S3Output"] for o in
               steps[name]["Arguments"]["ProcessingOutputConfig"]["Outputs"]}
        assert set(got) == set(outputs)
        for output, local_path in outputs.items():
            assert got[output]["LocalPath"] == local_path
            assert got[output]["S3UploadMode"] == "EndOfJob"
            assert _is_run_prefixed(got[output]["S3Uri"], name, output)


def test_container_contract(steps):
    seed = {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.Seed"}]}}

    fit = steps["FitGenerator"]["Arguments"]
    assert fit["AlgorithmSpecification"]["TrainingImage"] == "advsynth-generator:latest"
    assert "ContainerEntrypoint" not in fit["AlgorithmSpecification"]  # image's `train`
    assert fit["HyperParameters"] == {
        "pca_variance": {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.PcaVariance"}]}},
        "min_components": {"Std:Join": {"On": "",
                                        "Values": [{"Get": "Parameters.MinComponents"}]}},
        "max_components": {"Std:Join": {"On": "",
                                        "Values": [{"Get": "Parameters.MaxComponents"}]}},
        "criterion": {"Get": "Parameters.Criterion"},
        "seed": seed,
    }
    (channel,) = fit["InputDataConfig"]
    assert channel["ChannelName"] == "train" and channel["ContentType"] == "text/csv"
    assert channel["DataSource"]["S3DataSource"]["S3Uri"] == {"Get": "Parameters.InputDataUri"}

    sample = steps["SampleSynthetic"]["Arguments"]
    assert sample["AppSpecification"]["ImageUri"] == "advsynth-generator:latest"
    assert sample["AppSpecification"]["ContainerEntrypoint"] == [
        "python", "-m", "advsynth.sagemaker", "sample"]
    assert sample["AppSpecification"]["ContainerArguments"] == [
        "--rows", {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.SampleRows"}]}},
        "--seed", seed, "--test-size", "0.3",
    ]
    assert {i["InputName"]: i["S3Input"]["LocalPath"] for i in sample["ProcessingInputs"]} == {
        "model": "/opt/ml/processing/model", "real": "/opt/ml/processing/real"}

    detector = steps["TrainDetector"]["Arguments"]
    assert detector["AlgorithmSpecification"]["TrainingImage"] == {
        "Get": "Parameters.DetectorImage"}
    hp = detector["HyperParameters"]
    assert hp["objective"] == "binary:logistic" and hp["eval_metric"] == "auc"
    assert hp["num_round"] == {"Std:Join": {"On": "",
                                            "Values": [{"Get": "Parameters.DetectorRounds"}]}}
    assert (hp["max_depth"], hp["eta"], hp["seed"]) == ("6", "0.1", seed)

    evaluate = steps["EvaluateDetector"]["Arguments"]
    assert evaluate["AppSpecification"]["ContainerEntrypoint"] == [
        "python", "-m", "advsynth.sagemaker", "evaluate"]
    assert evaluate["AppSpecification"]["ContainerArguments"] == ["--seed", seed]
    assert {i["InputName"]: i["S3Input"]["LocalPath"] for i in evaluate["ProcessingInputs"]} == {
        "model": "/opt/ml/processing/model",
        "validation": "/opt/ml/processing/validation",
        "features": "/opt/ml/processing/features",
        "real": "/opt/ml/processing/real",
    }

    for name in JOB_STEPS:
        args = steps[name]["Arguments"]
        assert args["RoleArn"] == ROLE
        resources = args.get("ResourceConfig") or args["ProcessingResources"]["ClusterConfig"]
        kind = "Training" if "ResourceConfig" in args else "Processing"
        assert resources["InstanceType"] == {"Get": f"Parameters.{kind}InstanceType"}


def _metric_regexes(step):
    return {m["Name"]: m["Regex"] for m in
            step["Arguments"]["AlgorithmSpecification"]["MetricDefinitions"]}


def test_generator_metric_definitions_match_container_lines(steps):
    regexes = _metric_regexes(steps["FitGenerator"])
    assert set(regexes) == {"generator:criterion_value", "generator:n_components", "generator:fit_seconds"}
    log = "n_components: 12\ncriterion: aic\naic: -12345.678\nfit_seconds: 3.5e-01\n"
    assert re.search(regexes["generator:criterion_value"], log).group(1) == "-12345.678"
    assert re.search(regexes["generator:criterion_value"], "bic: 17.5\n").group(1) == "17.5"
    assert re.search(regexes["generator:n_components"], log).group(1) == "12"
    assert float(re.search(regexes["generator:fit_seconds"], log).group(1)) == 0.35


@pytest.mark.parametrize("line", [
    "[42]#011train-auc:0.91234#011validation-auc:0.87",       # CloudWatch (#011 = tab)
    "[42]\ttrain-auc:0.91234\tvalidation-auc:0.87",            # literal tab
    "[2024-05-01:10:00:00:INFO] [42]#011train-auc:0.91234#011validation-auc:0.87",
    "[42]\tvalidation-auc:0.87\ttrain-auc:0.91234",            # other order
])
def test_detector_metric_definitions_match_xgboost_lines(steps, line):
    regexes = _metric_regexes(steps["TrainDetector"])
    assert set(regexes) == {"train:auc", "validation:auc"}
    assert re.search(regexes["train:auc"], line).group(1) == "0.91234"
    assert re.search(regexes["validation:auc"], line).group(1) == "0.87"


def test_detector_metric_regexes_do_not_cross_match(steps):
    regexes = _metric_regexes(steps["TrainDetector"])
    assert re.search(regexes["train:auc"], "[3]#011validation-auc:0.5") is None
    assert re.search(regexes["validation:auc"], "[3]#011train-auc:0.5") is None


def test_local_mode_uses_local_instance_types_and_images():
    pipeline, definition = _build(local=True)
    params = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert params["TrainingInstanceType"] == "local"
    assert params["ProcessingInstanceType"] == "local"
    assert params["DetectorImage"] == "advsynth-detector:latest"
    assert [step["Name"] for step in definition["Steps"]] == STEP_ORDER
    from sagemaker.core.workflow.pipeline_context import LocalPipelineSession

    assert isinstance(pipeline.sagemaker_session, LocalPipelineSession)


def test_role_is_required_outside_local_mode():
    with pytest.MonkeyPatch.context() as mp, mock_aws():
        _offline_env(mp)
        from pipelines.adversarial.pipeline import get_pipeline, get_session

        with pytest.raises(ValueError, match="role"):
            get_pipeline(default_bucket=BUCKET, sagemaker_session=get_session("us-east-1", BUCKET))


def test_telemetry_opt_out_is_read_by_the_sdk():
    with pytest.MonkeyPatch.context() as mp, mock_aws():
        _offline_env(mp)
        from sagemaker.core.common_utils import resolve_value_from_config
        from sagemaker.core.config.config_schema import TELEMETRY_OPT_OUT_PATH
        from pipelines.adversarial.pipeline import get_session

        session = get_session("us-east-1", BUCKET, telemetry_opt_out=True)
        assert resolve_value_from_config(
            direct_input=None, config_path=TELEMETRY_OPT_OUT_PATH, default_value=False,
            sagemaker_session=session,
        ) is True
