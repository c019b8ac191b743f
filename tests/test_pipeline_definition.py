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
ROOT_CONFIG = __import__("pathlib").Path(__file__).resolve().parents[1] / "config" / "adult.yaml"
STEP_ORDER = ["FitGenerator", "SampleSynthetic", "PrepareDetectorData", "TrainDetector", "EvaluateDetector", "AucGate",
              "PrivacyGate"]
JOB_STEPS = STEP_ORDER[:5]


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


def test_definition_is_json_with_the_seven_steps_in_order(definition, built):
    assert [step["Name"] for step in definition["Steps"]] == STEP_ORDER
    assert [step["Type"] for step in definition["Steps"]] == [
        "Training", "Processing", "Processing", "Training", "Processing", "Condition", "Condition",
    ]
    # The SDK's own topological order agrees with the listed order.
    from sagemaker.mlops.workflow.pipeline import PipelineGraph

    graph_order = [step.name for step in PipelineGraph.from_pipeline(built[0])]
    assert graph_order[:5] == STEP_ORDER[:5]  # then the two gates (either order) and their fail steps
    assert sorted(graph_order[5:]) == sorted(STEP_ORDER[5:] + ["AucAboveThreshold", "PrivacyFlagged"])


def test_steps_depend_on_each_other_through_property_references(steps):
    expected = {
        "FitGenerator": set(),
        "SampleSynthetic": {"FitGenerator"},
        "PrepareDetectorData": {"FitGenerator", "SampleSynthetic"},
        "TrainDetector": {"PrepareDetectorData"},
        # FitGenerator: its model artifact's split.json (the privacy adversary's members and holdout)
        "EvaluateDetector": {"TrainDetector", "PrepareDetectorData", "SampleSynthetic", "FitGenerator"},
        "AucGate": {"EvaluateDetector"},
        "PrivacyGate": {"EvaluateDetector"},
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
    prepare_inputs = {i["InputName"]: i["S3Input"] for i in
                      steps["PrepareDetectorData"]["Arguments"]["ProcessingInputs"]}
    selected = {"Get": "Steps.SampleSynthetic.ProcessingOutputConfig.Outputs['selected'].S3Output.S3Uri"}
    assert prepare_inputs["selected"]["S3Uri"] == selected       # every sampling instance's shard
    assert prepare_inputs["model"]["S3Uri"] == sample_inputs["model"]["S3Uri"]   # the generator's schema

    channels = {c["ChannelName"]: c for c in
                steps["TrainDetector"]["Arguments"]["InputDataConfig"]}
    assert set(channels) == {"train", "validation"}   # never the test split
    for name in ("train", "validation"):
        assert channels[name]["DataSource"]["S3DataSource"]["S3Uri"] == {
            "Get": f"Steps.PrepareDetectorData.ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri"
        }
        assert channels[name]["ContentType"] == "text/csv"

    eval_inputs = {i["InputName"]: i["S3Input"] for i in
                   steps["EvaluateDetector"]["Arguments"]["ProcessingInputs"]}
    assert eval_inputs["model"]["S3Uri"] == {
        "Get": "Steps.TrainDetector.ModelArtifacts.S3ModelArtifacts"}
    assert eval_inputs["test"]["S3Uri"] == {
        "Get": "Steps.PrepareDetectorData.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"}
    assert eval_inputs["features"]["S3Uri"] == {
        "Get": "Steps.PrepareDetectorData.ProcessingOutputConfig.Outputs['features'].S3Output.S3Uri"}
    assert eval_inputs["synthetic"]["S3Uri"] == selected      # the rows the detector saw, all shards
    assert eval_inputs["real"]["S3Uri"] == {"Get": "Parameters.InputDataUri"}


def _detector_parameter_defaults():
    """Detector* parameter -> (type, default), every default DetectorConfig()'s."""
    from advsynth.protocol import DetectorConfig

    d = DetectorConfig()
    return {
        "DetectorRounds": ("Integer", d.rounds),
        "DetectorMaxDepth": ("Integer", d.max_depth),
        "DetectorEta": ("Float", d.eta),
        "DetectorColsampleBytree": ("Float", d.colsample_bytree),
        "DetectorEarlyStoppingRounds": ("Integer", d.early_stopping_rounds),
        "DetectorValidationSize": ("Float", d.validation_size),
        "DetectorTestSize": ("Float", d.test_size),
    }


def test_parameters_exist_with_defaults(definition):
    from advsynth.config import RunConfig
    from advsynth.synthesizers.gmm import GMMSynthesizer

    gmm = GMMSynthesizer()
    params = {p["Name"]: p for p in definition["Parameters"]}
    expected = {
        "InputDataUri": ("String", f"s3://{BUCKET}/advsynth/input/real.csv"),
        "ColumnTypes": ("String", "{}"),
        "SampleRows": ("Integer", 0),
        "SampleInstanceCount": ("Integer", 1),
        "DetectorInstanceCount": ("Integer", 1),
        "Holdout": ("Float", RunConfig.__dataclass_fields__["holdout"].default),
        "PcaVariance": ("Float", gmm.pca_variance),
        "MinComponents": ("Integer", gmm.min_components),
        "MaxComponents": ("Integer", gmm.max_components),
        "NCandidates": ("Integer", gmm.n_candidates),
        "Criterion": ("String", gmm.criterion),
        "SelectionRows": ("Integer", gmm.selection_rows),
        "FitRows": ("String", str(gmm.fit_rows)),
        "Redraw": ("String", "auto"),
        "Refine": ("Integer", gmm.refine),
        "PrivacyGuard": ("String", "false"),
        "Seed": ("Integer", 0),
        "AucThreshold": ("Float", 0.75),
        "PrivacyGate": ("String", "on"),
        "TrainingInstanceType": ("String", "ml.m5.xlarge"),
        "ProcessingInstanceType": ("String", "ml.m5.xlarge"),
        "OutputPrefix": ("String", f"s3://{BUCKET}/advsynth/runs"),
        **_detector_parameter_defaults(),
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
    for name in ("SampleSynthetic", "PrepareDetectorData", "EvaluateDetector"):
        assert steps[name]["Arguments"]["NetworkConfig"]["EnableNetworkIsolation"] is True


def test_network_isolation_and_kms_are_configurable():
    _, definition = _build(network_isolation=False, kms_key=KMS)
    steps = {step["Name"]: step for step in definition["Steps"]}
    for name in ("FitGenerator", "TrainDetector"):
        args = steps[name]["Arguments"]
        assert args.get("EnableNetworkIsolation") in (False, None)
        assert args["OutputDataConfig"]["KmsKeyId"] == KMS
        assert args["ResourceConfig"]["VolumeKmsKeyId"] == KMS
    for name in ("SampleSynthetic", "PrepareDetectorData", "EvaluateDetector"):
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


def test_privacy_gate_fails_on_a_flagged_table_while_its_parameter_is_on(steps, definition):
    gate = steps["PrivacyGate"]["Arguments"]
    report = {"Get": "Steps.EvaluateDetector.PropertyFiles.EvaluationReport"}
    flagged, switch = gate["Conditions"]
    assert flagged == {"Type": "Equals", "LeftValue": {"Std:JsonGet": {"PropertyFile": report, "Path": "privacy.flagged"}},
                       "RightValue": True}
    assert switch == {"Type": "Equals", "LeftValue": {"Get": "Parameters.PrivacyGate"}, "RightValue": "on"}
    (fail,) = gate["IfSteps"]
    assert fail["Name"] == "PrivacyFlagged" and fail["Type"] == "Fail" and gate["ElseSteps"] == []
    message = fail["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert {"Std:JsonGet": {"PropertyFile": report, "Path": "privacy.flags[0].message"}} in message
    params = {p["Name"]: p for p in definition["Parameters"]}
    assert params["PrivacyGate"]["DefaultValue"] == "on" and params["PrivacyGate"]["EnumValues"] == ["on", "off"]
    inputs = {i["InputName"]: i["S3Input"] for i in steps["EvaluateDetector"]["Arguments"]["ProcessingInputs"]}
    assert inputs["generator"]["S3Uri"] == {"Get": "Steps.FitGenerator.ModelArtifacts.S3ModelArtifacts"}
    assert inputs["generator"]["LocalPath"] == "/opt/ml/processing/generator"


def test_outputs_are_under_the_execution_prefix(steps):
    for name in ("FitGenerator", "TrainDetector"):
        assert _is_run_prefixed(steps[name]["Arguments"]["OutputDataConfig"]["S3OutputPath"],
                                name)
    expected = {
        "SampleSynthetic": {
            "synthetic": "/opt/ml/processing/synthetic",
            "selected": "/opt/ml/processing/selected",
        },
        "PrepareDetectorData": {
            "train": "/opt/ml/processing/detector/train",
            "validation": "/opt/ml/processing/detector/validation",
            "test": "/opt/ml/processing/detector/test",
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
    def joined(name):
        return {"Std:Join": {"On": "", "Values": [{"Get": f"Parameters.{name}"}]}}

    assert fit["HyperParameters"] == {
        "pca_variance": joined("PcaVariance"),
        "min_components": joined("MinComponents"),
        "max_components": joined("MaxComponents"),
        "n_candidates": joined("NCandidates"),
        "criterion": {"Get": "Parameters.Criterion"},
        "selection_rows": joined("SelectionRows"),
        "fit_rows": {"Get": "Parameters.FitRows"},
        "redraw": {"Get": "Parameters.Redraw"},
        "refine": joined("Refine"),
        "privacy_guard": {"Get": "Parameters.PrivacyGuard"},
        "seed": seed,
        "holdout": joined("Holdout"),           # the generator never sees the holdout rows
        "types": {"Get": "Parameters.ColumnTypes"},   # the config's column types travel with the job
    }
    # every hyperparameter the step sends is one the container declares
    from advsynth.sagemaker.entrypoints import GENERATOR_HYPERPARAMETERS

    assert set(fit["HyperParameters"]) <= set(GENERATOR_HYPERPARAMETERS)
    (channel,) = fit["InputDataConfig"]
    assert channel["ChannelName"] == "train" and channel["ContentType"] == "text/csv"
    assert channel["DataSource"]["S3DataSource"]["S3Uri"] == {"Get": "Parameters.InputDataUri"}

    sample = steps["SampleSynthetic"]["Arguments"]
    assert sample["AppSpecification"]["ImageUri"] == "advsynth-generator:latest"
    assert sample["AppSpecification"]["ContainerEntrypoint"] == [
        "python", "-m", "advsynth.sagemaker", "sample"]
    assert sample["AppSpecification"]["ContainerArguments"] == [
        "--rows", joined("SampleRows"), "--seed", seed, *DETECTOR_ARGUMENTS,
    ]
    assert {i["InputName"]: i["S3Input"]["LocalPath"] for i in sample["ProcessingInputs"]} == {
        "model": "/opt/ml/processing/model", "real": "/opt/ml/processing/real"}

    prepare = steps["PrepareDetectorData"]["Arguments"]
    assert prepare["AppSpecification"]["ContainerEntrypoint"] == [
        "python", "-m", "advsynth.sagemaker", "prepare"]
    assert prepare["AppSpecification"]["ContainerArguments"] == [
        "--seed", seed, "--train-files", joined("DetectorInstanceCount"), *DETECTOR_ARGUMENTS,
        "--drawn-rows", joined("SampleRows")]
    assert {i["InputName"]: i["S3Input"]["LocalPath"] for i in prepare["ProcessingInputs"]} == {
        "model": "/opt/ml/processing/model", "real": "/opt/ml/processing/real",
        "selected": "/opt/ml/processing/selected"}

    detector = steps["TrainDetector"]["Arguments"]
    assert detector["AlgorithmSpecification"]["TrainingImage"] == {
        "Get": "Parameters.DetectorImage"}
    hp = detector["HyperParameters"]
    assert hp["objective"] == "binary:logistic" and hp["eval_metric"] == "auc"
    from advsynth.protocol import DetectorConfig

    assert hp == {"objective": "binary:logistic", "eval_metric": "auc", "num_round": joined("DetectorRounds"),
                  "max_depth": joined("DetectorMaxDepth"), "eta": joined("DetectorEta"),
                  "colsample_bytree": joined("DetectorColsampleBytree"), "early_stopping_rounds": joined("DetectorEarlyStoppingRounds"), "seed": seed,
                  **{k: str(v) for k, v in DetectorConfig().params.items()}}

    evaluate = steps["EvaluateDetector"]["Arguments"]
    assert evaluate["AppSpecification"]["ContainerEntrypoint"] == [
        "python", "-m", "advsynth.sagemaker", "evaluate"]
    assert evaluate["AppSpecification"]["ContainerArguments"] == ["--seed", seed]
    assert {i["InputName"]: i["S3Input"]["LocalPath"] for i in evaluate["ProcessingInputs"]} == {
        "model": "/opt/ml/processing/model",
        "test": "/opt/ml/processing/test",
        "synthetic": "/opt/ml/processing/synthetic",     # for the giveaway rows and levels
        "features": "/opt/ml/processing/features",
        "generator": "/opt/ml/processing/generator",     # split.json: the privacy adversary's members
        "real": "/opt/ml/processing/real",
    }

    for name in JOB_STEPS:
        args = steps[name]["Arguments"]
        assert args["RoleArn"] == ROLE
        resources = args.get("ResourceConfig") or args["ProcessingResources"]["ClusterConfig"]
        kind = "Training" if "ResourceConfig" in args else "Processing"
        assert resources["InstanceType"] == {"Get": f"Parameters.{kind}InstanceType"}


def _joined(name):
    return {"Std:Join": {"On": "", "Values": [{"Get": f"Parameters.{name}"}]}}


# The sample/prepare steps' detector options: every DetectorConfig field, each a parameter.
DETECTOR_ARGUMENTS = [
    "--rounds", _joined("DetectorRounds"), "--max-depth", _joined("DetectorMaxDepth"),
    "--eta", _joined("DetectorEta"), "--early-stopping-rounds", _joined("DetectorEarlyStoppingRounds"),
    "--validation-size", _joined("DetectorValidationSize"), "--test-size", _joined("DetectorTestSize"),
    "--colsample-bytree", _joined("DetectorColsampleBytree"),
    "--detector-params", json.dumps(__import__("advsynth.protocol").protocol.DetectorConfig().params, sort_keys=True),
]


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


# ----------------------------------------------------------------- evaluate-only variant


@pytest.fixture(scope="module")
def evaluate_only():
    return _build(evaluate_only=True)[1]


def test_evaluate_only_variant_skips_generation(evaluate_only):
    steps = {step["Name"]: step for step in evaluate_only["Steps"]}
    assert list(steps) == ["PrepareDetectorData", "TrainDetector", "EvaluateDetector", "AucGate"]
    assert not any(_refs(step["Arguments"]) & {"FitGenerator", "SampleSynthetic"} for step in steps.values())
    prepare = steps["PrepareDetectorData"]["Arguments"]
    inputs = {i["InputName"]: i["S3Input"] for i in prepare["ProcessingInputs"]}
    assert inputs["given"]["S3Uri"] == {"Get": "Parameters.SyntheticDataUri"}
    assert inputs["given"]["LocalPath"] == "/opt/ml/processing/given"   # what `sample` reads instead of a model
    assert inputs["real"]["S3Uri"] == {"Get": "Parameters.InputDataUri"}
    assert "model" not in inputs
    assert prepare["AppSpecification"]["ContainerEntrypoint"] == ["python", "-m", "advsynth.sagemaker", "prepare"]
    seed = _joined("Seed")
    assert prepare["AppSpecification"]["ContainerArguments"] == [
        "--seed", seed, "--train-files", _joined("DetectorInstanceCount"), *DETECTOR_ARGUMENTS,
        "--types", {"Get": "Parameters.ColumnTypes"}]
    outputs = {o["OutputName"] for o in prepare["ProcessingOutputConfig"]["Outputs"]}
    assert outputs == {"synthetic", "train", "validation", "test", "features"}
    # the detector, evaluation and gate are the generating pipeline's, reading the prepared splits
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
                for c in steps["TrainDetector"]["Arguments"]["InputDataConfig"]}
    assert channels == {name: {"Get": f"Steps.PrepareDetectorData.ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri"}
                        for name in ("train", "validation")}
    evaluate_inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in steps["EvaluateDetector"]["Arguments"]["ProcessingInputs"]}
    for name in ("test", "synthetic", "features"):
        assert evaluate_inputs[name] == {
            "Get": f"Steps.PrepareDetectorData.ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri"}
    assert steps["AucGate"]["Arguments"]["Conditions"][0]["RightValue"] == {"Get": "Parameters.AucThreshold"}
    assert "generator" not in evaluate_inputs  # no generator, no holdout: no privacy verdict and no PrivacyGate


def test_evaluate_only_parameters(evaluate_only):
    params = {p["Name"]: (p["Type"], p["DefaultValue"]) for p in evaluate_only["Parameters"]}
    assert params["SyntheticDataUri"] == ("String", f"s3://{BUCKET}/advsynth/input/synthetic.csv")
    for name, expected in _detector_parameter_defaults().items():
        assert params[name] == expected, name
    # no generator settings: nothing is generated
    assert not set(params) & {"SampleRows", "SampleInstanceCount", "Holdout", "PcaVariance", "MaxComponents", "Criterion",
                              "PrivacyGate"}
    assert params["DetectorInstanceCount"] == ("Integer", 1)


def test_parameters_for_config_carry_the_runs_experiment(tmp_path):
    from advsynth.config import load_config
    from advsynth.errors import ConfigError
    from pipelines.adversarial.pipeline import get_parameters, parameters_for_config

    cfg = load_config(ROOT_CONFIG)
    values = parameters_for_config(cfg)
    assert values["Seed"] == cfg.seed and values["Holdout"] == cfg.holdout
    assert json.loads(values["ColumnTypes"]) == cfg.data.types and cfg.data.types
    assert values["MaxComponents"] == cfg.generators["gmm"]["max_components"]
    assert values["FitRows"] == str(cfg.generators["gmm"]["fit_rows"])
    # a boolean travels as the words the container's contract reads back
    cfg.generators["gmm"]["privacy_guard"] = True
    assert parameters_for_config(cfg)["PrivacyGuard"] == "true"
    from advsynth.protocol import DetectorConfig

    detector = DetectorConfig.from_dict(cfg.detector) if isinstance(cfg.detector, dict) else cfg.detector
    assert values["DetectorRounds"] == detector.rounds and values["DetectorTestSize"] == detector.test_size
    with pytest.MonkeyPatch.context() as mp:
        _offline_env(mp)
        names = {p.name for p in get_parameters(local=True)}
        assert set(values) <= names
        assert set(parameters_for_config(cfg, evaluate_only=True)) <= {p.name for p in get_parameters(local=True, evaluate_only=True)}
    # a setting the pipeline cannot carry is refused, never dropped
    cfg.generators["gmm"]["n_init"] = 3
    with pytest.raises(ConfigError, match="n_init"):
        parameters_for_config(cfg)


# ----------------------------------------------------------------- several instances
def test_instance_counts_reach_the_sample_and_detector_jobs(steps):
    """SampleInstanceCount sizes the sampling job, DetectorInstanceCount the detector job and the
    number of training files the prepare step writes; the other jobs stay on one instance."""
    count = lambda name: (steps[name]["Arguments"].get("ResourceConfig")  # noqa: E731
                          or steps[name]["Arguments"]["ProcessingResources"]["ClusterConfig"])["InstanceCount"]
    assert count("SampleSynthetic") == {"Get": "Parameters.SampleInstanceCount"}
    assert count("TrainDetector") == {"Get": "Parameters.DetectorInstanceCount"}
    for name in ("FitGenerator", "PrepareDetectorData", "EvaluateDetector"):
        assert count(name) == 1, name


def test_detector_train_channel_is_sharded_by_s3_key(steps):
    """With several detector instances each must read its own training files (the built-in
    XGBoost's distributed training), while every instance evaluates the whole validation split."""
    sources = {c["ChannelName"]: c["DataSource"]["S3DataSource"]
               for c in steps["TrainDetector"]["Arguments"]["InputDataConfig"]}
    assert sources["train"]["S3DataDistributionType"] == "ShardedByS3Key"
    assert sources["validation"]["S3DataDistributionType"] == "FullyReplicated"
    assert sources["train"]["S3DataType"] == sources["validation"]["S3DataType"] == "S3Prefix"


def test_sampling_instances_read_the_whole_model_and_real_table(steps):
    """Every sampling instance needs the whole generator and real table (it draws its own blocks
    and picks its share of the detector's rows from the global balance), so nothing it reads is sharded."""
    for name in ("SampleSynthetic", "PrepareDetectorData", "EvaluateDetector"):
        for item in steps[name]["Arguments"]["ProcessingInputs"]:
            assert item["S3Input"]["S3DataDistributionType"] == "FullyReplicated", (name, item["InputName"])


def test_local_mode_replicates_the_train_channel():
    """Local mode accepts only FullyReplicated channels (it copies every file into every
    container); the advsynth-detector image then reads every n-th file itself."""
    _, definition = _build(local=True)
    steps = {step["Name"]: step for step in definition["Steps"]}
    sources = {c["ChannelName"]: c["DataSource"]["S3DataSource"]
               for c in steps["TrainDetector"]["Arguments"]["InputDataConfig"]}
    assert sources["train"]["S3DataDistributionType"] == "FullyReplicated"
