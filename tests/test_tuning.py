"""The tuning variant: its definition offline, its trial in-process, and why local mode cannot run it.

SageMaker local mode has no tuning jobs (checked below against the SDK itself), so the
variant is tested in two halves: the definition the service would receive (ranges,
objective, what each trial gets, how the sample step finds the best model) and the trial
container command on a real table, whose reported AUC must be the in-process search's
for the same settings, rows and seed.
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest
from moto import mock_aws

from advsynth.config import load_config
from advsynth.io import read_table
from advsynth.experiment.splits import split_real
from advsynth.protocol import DetectorConfig
from advsynth.config import load_real
from advsynth.sagemaker import contract, entrypoints
from advsynth.sagemaker.__main__ import main as sm_main
from advsynth.schema import infer_schema
from advsynth.synthesizers import Synthesizer, adversarial, make_generator
from advsynth.synthesizers.adversarial import SelectionJudge, gmm_params, select_by_detector
from pipelines.adversarial import tuning

ROLE = "arn:aws:iam::123456789012:role/AdvsynthTest"
BUCKET = "advsynth-test-bucket"
KMS = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
ADULT_CONFIG = Path(__file__).resolve().parents[1] / "config" / "adult.yaml"
TYPES = load_config(ADULT_CONFIG).data.types


# ----------------------------------------------------------------- the definition (offline)
def _offline_env(mp: pytest.MonkeyPatch) -> None:
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    mp.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        mp.setenv(name, "testing")


def _definition(**kwargs) -> dict:
    with pytest.MonkeyPatch.context() as mp, mock_aws():
        _offline_env(mp)
        from pipelines.get_pipeline_definition import definition

        return json.loads(definition(role=ROLE, region="us-east-1", bucket=BUCKET, **kwargs))


@pytest.fixture(scope="module")
def tuned():
    return _definition(tuning=True, kms_key=KMS)


@pytest.fixture(scope="module")
def steps(tuned):
    return {step["Name"]: step for step in tuned["Steps"]}


def _resolve(expr, defaults: dict):
    """A definition expression with every parameter at its default (what an unparameterised execution sees)."""
    if isinstance(expr, dict) and "Get" in expr and expr["Get"].startswith("Parameters."):
        return str(defaults[expr["Get"].split(".", 1)[1]])
    if isinstance(expr, dict) and "Std:Join" in expr:
        join = expr["Std:Join"]
        return join["On"].join(_resolve(v, defaults) for v in join["Values"])
    assert isinstance(expr, (str, int, float)), f"unresolvable expression {expr!r}"
    return str(expr)


def test_the_generator_step_is_a_tuning_job_and_the_rest_is_unchanged(tuned, steps):
    assert [(s["Name"], s["Type"]) for s in tuned["Steps"]] == [
        ("TuneGenerator", "Tuning"), ("SampleSynthetic", "Processing"), ("PrepareDetectorData", "Processing"),
        ("TrainDetector", "Training"), ("EvaluateDetector", "Processing"), ("AucGate", "Condition"),
        ("PrivacyGate", "Condition")]
    plain = {s["Name"]: s for s in _definition(kms_key=KMS)["Steps"]}
    for name in ("TrainDetector", "AucGate", "PrivacyGate"):
        assert json.dumps(steps[name], sort_keys=True) == json.dumps(plain[name], sort_keys=True), name
    # EvaluateDetector: the same, but the privacy adversary's split comes from the best trial's model
    evaluate = json.dumps(steps["EvaluateDetector"], sort_keys=True)
    assert "Steps.FitGenerator" not in evaluate and "TuneGenerator" in evaluate
    assert json.loads(evaluate)["Arguments"]["AppSpecification"] == plain["EvaluateDetector"]["Arguments"]["AppSpecification"]
    sample, plain_sample = steps["SampleSynthetic"]["Arguments"], plain["SampleSynthetic"]["Arguments"]
    assert sample["AppSpecification"] == plain_sample["AppSpecification"]   # the same sample command
    # PrepareDetectorData reads the tuned model's schema: the same command, only the model input differs
    prepare, plain_prepare = steps["PrepareDetectorData"]["Arguments"], plain["PrepareDetectorData"]["Arguments"]
    assert prepare["AppSpecification"] == plain_prepare["AppSpecification"]


def test_search_space_and_objective(steps):
    config = steps["TuneGenerator"]["Arguments"]["HyperParameterTuningJobConfig"]
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Minimize", "MetricName": "selection:objective"}
    assert config["Strategy"] == "Bayesian" and config["RandomSeed"] == {"Get": "Parameters.Seed"}
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": {"Get": "Parameters.TuningMaxJobs"},
                                        "MaxParallelTrainingJobs": {"Get": "Parameters.TuningParallelJobs"}}
    ranges = config["ParameterRanges"]
    joined = lambda name: {"Std:Join": {"On": "", "Values": [{"Get": f"Parameters.{name}"}]}}  # noqa: E731
    assert ranges["IntegerParameterRanges"] == [{"Name": "n_components", "MinValue": joined("TuningMinComponents"),
                                                 "MaxValue": joined("TuningMaxComponents"), "ScalingType": "Logarithmic"}]
    assert ranges["ContinuousParameterRanges"] == [{"Name": "pca_variance", "MinValue": joined("TuningMinPcaVariance"),
                                                    "MaxValue": joined("TuningMaxPcaVariance"), "ScalingType": "Auto"}]
    (categorical,) = ranges["CategoricalParameterRanges"]
    from advsynth.synthesizers.gmm import COVARIANCE_TYPES

    assert categorical["Name"] == "covariance_type" and set(categorical["Values"]) <= set(COVARIANCE_TYPES)
    # every tuned name is one the trial declares, and none is also sent as a static value
    definition = steps["TuneGenerator"]["Arguments"]["TrainingJobDefinition"]
    tuned_names = {r["Name"] for kind in ranges.values() for r in kind}
    assert tuned_names <= set(entrypoints.TRIAL_HYPERPARAMETERS)
    assert not tuned_names & set(definition["StaticHyperParameters"])


def test_tuning_parameters_have_defaults_and_sane_ranges(tuned):
    params = {p["Name"]: (p["Type"], p["DefaultValue"]) for p in tuned["Parameters"]}
    for name, (kind, default) in tuning.TUNING_PARAMETERS.items():
        assert params[name] == ("Integer" if kind is int else "Float", default), name
    assert 1 <= params["TuningParallelJobs"][1] <= params["TuningMaxJobs"][1]
    assert 1 <= params["TuningMinComponents"][1] < params["TuningMaxComponents"][1]
    assert 0 < params["TuningMinPcaVariance"][1] < params["TuningMaxPcaVariance"][1] < 1
    # the plain pipeline has none of them
    plain = {p["Name"] for p in _definition()["Parameters"]}
    assert not plain & set(tuning.TUNING_PARAMETERS)


def test_each_trial_runs_the_trial_command_with_the_pipelines_experiment_and_detector(tuned, steps):
    definition = steps["TuneGenerator"]["Arguments"]["TrainingJobDefinition"]
    assert definition["AlgorithmSpecification"]["TrainingImage"] == "advsynth-generator:latest"
    role = definition["Environment"]["ADVSYNTH_ROLE"]           # the image's `train` runs "<role>-train"
    assert entrypoints.COMMANDS[f"{role}-train"][0] is entrypoints.generator_trial_train
    static = definition["StaticHyperParameters"]
    assert set(static) <= set(entrypoints.TRIAL_HYPERPARAMETERS)
    assert static["holdout"] == {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.Holdout"}]}}
    assert static["types"] == {"Get": "Parameters.ColumnTypes"} and static["seed"]["Std:Join"]["Values"] == [
        {"Get": "Parameters.Seed"}]
    # the detector JSON at the parameters' defaults is DetectorConfig()'s protocol
    defaults = {p["Name"]: p["DefaultValue"] for p in tuned["Parameters"]}
    detector = DetectorConfig.from_dict(json.loads(_resolve(static["detector"], defaults)))
    fields = ("rounds", "max_depth", "eta", "colsample_bytree", "early_stopping_rounds", "validation_size", "test_size",
              "params")
    assert {f: getattr(detector, f) for f in fields} == {f: getattr(DetectorConfig(), f) for f in fields}
    (channel,) = definition["InputDataConfig"]
    assert channel["ChannelName"] == "train" and channel["DataSource"]["S3DataSource"]["S3Uri"] == {
        "Get": "Parameters.InputDataUri"}
    metrics = {m["Name"] for m in definition["AlgorithmSpecification"]["MetricDefinitions"]}
    assert "selection:objective" in metrics and "validation:auc" in metrics


def test_trial_jobs_are_isolated_and_encrypted_like_the_other_jobs(steps):
    definition = steps["TuneGenerator"]["Arguments"]["TrainingJobDefinition"]
    assert definition["EnableNetworkIsolation"] is True
    assert definition["ResourceConfig"]["VolumeKmsKeyId"] == KMS
    assert definition["OutputDataConfig"]["KmsKeyId"] == KMS
    assert definition["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}
    assert definition["RoleArn"] == ROLE
    open_ = {s["Name"]: s for s in _definition(tuning=True, network_isolation=False)["Steps"]}
    assert open_["TuneGenerator"]["Arguments"]["TrainingJobDefinition"]["EnableNetworkIsolation"] is False


def test_the_sample_step_reads_the_best_training_jobs_model(steps):
    definition = steps["TuneGenerator"]["Arguments"]["TrainingJobDefinition"]
    output = definition["OutputDataConfig"]["S3OutputPath"]["Std:Join"]
    model = {i["InputName"]: i["S3Input"] for i in steps["SampleSynthetic"]["Arguments"]["ProcessingInputs"]}["model"]
    uri = model["S3Uri"]["Std:Join"]
    # <S3OutputPath>/<best training job>/output/model.tar.gz, as a training job writes its model
    assert uri["On"] == output["On"] == "/"
    assert uri["Values"] == [*output["Values"], {"Get": "Steps.TuneGenerator.BestTrainingJob.TrainingJobName"},
                             "output", "model.tar.gz"]
    assert model["LocalPath"] == "/opt/ml/processing/model"


def test_tuning_is_refused_where_it_cannot_run():
    from advsynth.errors import ConfigError

    with pytest.MonkeyPatch.context() as mp, mock_aws():
        _offline_env(mp)
        from pipelines.adversarial.pipeline import get_pipeline

        with pytest.raises(ConfigError, match="local mode cannot run a tuning job"):
            get_pipeline(role=ROLE, default_bucket=BUCKET, local=True, tuning=True)
        with pytest.raises(ConfigError, match="evaluate-only"):
            get_pipeline(role=ROLE, default_bucket=BUCKET, evaluate_only=True, tuning=True)


def test_the_sdks_local_mode_has_no_tuning_jobs():
    """The evidence for refusing: the local executor rejects a Tuning step before any job, and the
    local SageMaker client has no tuning call."""
    import boto3
    from botocore.exceptions import ClientError
    from sagemaker.core.local.local_session import LocalSagemakerClient

    assert not hasattr(LocalSagemakerClient, "create_hyper_parameter_tuning_job")
    with pytest.MonkeyPatch.context() as mp, mock_aws():
        _offline_env(mp)
        from sagemaker.mlops.local import LocalPipelineSession

        from pipelines.adversarial.pipeline import get_pipeline, get_session

        pipeline = get_pipeline(region="us-east-1", role=ROLE, default_bucket=BUCKET,
                                sagemaker_session=get_session("us-east-1", BUCKET), tuning=True)
        runner = LocalPipelineSession(boto_session=boto3.Session(region_name="us-east-1"))
        runner.create_pipeline(pipeline, "tuning variant")
        with pytest.raises(ClientError, match="Step type Tuning is not supported in local mode"):
            runner.start_pipeline_execution(PipelineName=pipeline.name)


def test_cli_prints_and_upserts_the_tuning_variant_beside_the_plain_pipeline(capsys):
    import boto3

    from advsynth.cli import main

    assert main(["pipeline", "definition", "--tuning"]) == 0
    assert json.loads(capsys.readouterr().out)["Steps"][0]["Type"] == "Tuning"
    with pytest.MonkeyPatch.context() as mp, mock_aws():
        _offline_env(mp)
        args = ["pipeline", "upsert", "--role", ROLE, "--region", "us-east-1", "--bucket", BUCKET]
        assert main(args) == 0 and main(args + ["--tuning"]) == 0
        client = boto3.client("sagemaker", region_name="us-east-1")
        first = {name: json.loads(client.describe_pipeline(PipelineName=name)["PipelineDefinition"])["Steps"][0]["Name"]
                 for name in ("AdvsynthAdversarial", "AdvsynthTuning")}
        assert first == {"AdvsynthAdversarial": "FitGenerator", "AdvsynthTuning": "TuneGenerator"}
        assert main(args + ["--tuning", "--evaluate-only"]) == 2   # no generator to tune: one line, no traceback
    assert "evaluate-only variant has no generator to tune" in capsys.readouterr().err


# ----------------------------------------------------------------- the trial (in-process, real Adult rows)
BASE = {"pca_variance": 0.95, "min_components": 1, "max_components": 6, "n_candidates": 2, "criterion": "bic",
        "covariance_type": "diag"}
K = 4
DETECTOR = DetectorConfig(rounds=60, max_depth=4, eta=0.3, early_stopping_rounds=10, nthread=1)


def _hyperparameters(**changes) -> dict:
    hp = {**{k: str(v) for k, v in BASE.items()}, "n_components": str(K), "seed": "0", "holdout": "0.2",
          "types": json.dumps(TYPES), "detector": json.dumps(DETECTOR.to_dict())}
    return {**hp, **changes}


@pytest.fixture(scope="module")
def adult_csv(tmp_path_factory, adult_path) -> Path:
    """2,500 real Adult rows: 2,000 training rows, 600 of them selection-validation (>= 500)."""
    path = tmp_path_factory.mktemp("adult") / "adult.csv"
    load_real(load_config(ADULT_CONFIG)).sample(n=2500, random_state=1).to_csv(path, index=False)
    return path


def _job_root(root: Path, csv: Path, hp: dict, mp: pytest.MonkeyPatch) -> Path:
    (root / "input" / "data" / "train").mkdir(parents=True)
    (root / "input" / "data" / "train" / csv.name).write_bytes(csv.read_bytes())
    (root / "input" / "config").mkdir(parents=True)
    (root / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hp))
    mp.setenv(contract.SM_ROOT_ENV, str(root))
    mp.delenv(contract.PROCESSING_ROOT_ENV, raising=False)
    return root


def _metrics(stdout: str) -> dict:
    """The trial's metric values as the tuning job's regexes read them."""
    found = {}
    for name, regex in tuning.TRIAL_METRICS.items():
        match = re.search(regex, stdout)
        assert match, f"{name}: {regex!r} matches nothing in {stdout!r}"
        found[name] = match.group(1)
    return found


@pytest.fixture(scope="module")
def trial(tmp_path_factory, adult_csv):
    """One trial run in-process, recording every real row it fits on or shows a detector."""
    seen = []
    mp = pytest.MonkeyPatch()
    capture = tmp_path_factory.mktemp("stdout") / "out.txt"
    try:
        real_detect, real_fit = adversarial.detect, adversarial.GMMSynthesizer.fit
        mp.setattr(adversarial, "detect", lambda r, s, *a, **k: seen.append(r.index) or real_detect(r, s, *a, **k))
        mp.setattr(adversarial.GMMSynthesizer, "fit",
                   lambda self, df, *a, **k: seen.append(df.index) or real_fit(self, df, *a, **k))
        root = _job_root(tmp_path_factory.mktemp("trial"), adult_csv, _hyperparameters(), mp)
        import contextlib

        with open(capture, "w") as out, contextlib.redirect_stdout(out):
            code = sm_main(["generator-trial-train"])
    finally:
        mp.undo()
    return {"code": code, "root": root, "stdout": capture.read_text(), "seen": seen}


def test_trial_reports_the_in_process_searchs_auc_for_the_same_settings(trial, adult_csv):
    assert trial["code"] == 0, trial["stdout"]
    reported = _metrics(trial["stdout"])
    real = read_table(adult_csv)          # as the trial reads its channel
    schema = infer_schema(real, TYPES)
    train, _ = split_real(real, 0, 0.2)
    settings = {"n_components": K, "pca_variance": BASE["pca_variance"], "covariance_type": BASE["covariance_type"]}
    base = {k: v for k, v in BASE.items() if k not in settings}
    # the in-process search (advsynth run --adversarial's), with this candidate as its one stage
    selection = select_by_detector(train, schema, DETECTOR, base_params=base, stages=((settings,),), seed=0)
    (candidate,) = [c for c in selection.candidates if c["settings"] == settings]
    assert round(float(reported["validation:auc"]), 4) == candidate["auc"]
    # and to the printed precision, the one scoring rule both use
    exact = SelectionJudge(train, schema, DETECTOR, seed=0).score(settings, base)
    assert reported["validation:auc"] == f"{exact.auc:.6f}"
    assert exact.eligible and reported["selection:objective"] == reported["validation:auc"]
    assert float(reported["validation:exact_copy_rate"]) == pytest.approx(exact.exact_copy_rate, abs=1e-6)
    assert int(reported["generator:n_components"]) == K


def test_trial_never_reads_the_holdout(trial, adult_csv):
    assert trial["code"] == 0
    real = read_table(adult_csv)
    train, holdout = split_real(real, 0, 0.2)
    assert len(trial["seen"]) == 3          # candidate fit, its detector, the refit on all training rows
    touched = set().union(*(set(i) for i in trial["seen"]))
    assert touched <= set(train.index) and not touched & set(holdout.index)
    assert set(trial["seen"][2]) == set(train.index)            # the saved model is fitted on every training row


def test_trial_model_is_the_candidate_refitted_and_feeds_the_sample_step(trial, adult_csv, tmp_path, monkeypatch):
    assert trial["code"] == 0
    model = trial["root"] / "model"
    assert sorted(p.name for p in model.iterdir()) == ["generator.joblib", "schema.json", "split.json"]
    from advsynth.experiment.splits import RealSplit

    # split.json names the holdout the trial never read: the evaluation step's non-members
    holdout_rows = RealSplit.of(len(read_table(adult_csv)), 0, 0.2).holdout.tolist()
    assert json.loads((model / "split.json").read_text())["holdout_rows"] == holdout_rows
    loaded = Synthesizer.load(model / "generator.joblib")
    real = read_table(adult_csv)
    schema = infer_schema(real, TYPES)
    train, _ = split_real(real, 0, 0.2)
    refit = make_generator("gmm", random_state=0, **gmm_params({"n_components": K}, BASE)).fit(train, schema)
    assert loaded.n_components_ == K
    assert loaded.sample(200, random_state=5).equals(refit.sample(200, random_state=5))
    # the sample step takes the best trial's model.tar.gz as it takes FitGenerator's
    proc = tmp_path / "processing"
    (proc / "model").mkdir(parents=True)
    with tarfile.open(proc / "model" / "model.tar.gz", "w:gz") as tar:
        for path in sorted(model.iterdir()):
            tar.add(path, arcname=path.name)
    (proc / "real").mkdir()
    (proc / "real" / "real.csv").write_bytes(adult_csv.read_bytes())
    monkeypatch.setenv(contract.SM_ROOT_ENV, str(tmp_path))
    monkeypatch.delenv(contract.PROCESSING_ROOT_ENV, raising=False)
    assert sm_main(["sample", "--rows", "500", "--seed", "0", *entrypoints.detector_arguments(DETECTOR)]) == 0
    (shard,) = sorted((proc / "synthetic").glob("synthetic-*.csv"))   # one instance, one shard
    assert len(read_table(shard)) == 500


def test_a_copying_candidate_gets_the_worst_objective(tmp_path, adult_csv, monkeypatch, capsys):
    """Draws that replay the selection-fit rows fool the detector; the objective must not reward them."""
    real_fit = adversarial.GMMSynthesizer.fit
    monkeypatch.setattr(adversarial.GMMSynthesizer, "fit", lambda self, df, *a, **k: (
        setattr(self, "_rows_", df), real_fit(self, df, *a, **k))[1])
    monkeypatch.setattr(adversarial.GMMSynthesizer, "sample", lambda self, n, random_state=None: (
        self._rows_.sample(n, replace=True, random_state=0).reset_index(drop=True)))
    _job_root(tmp_path, adult_csv, _hyperparameters(), monkeypatch)
    assert sm_main(["generator-trial-train"]) == 0
    reported = _metrics(capsys.readouterr().out)
    assert float(reported["validation:exact_copy_rate"]) > 0.5
    assert float(reported["selection:objective"]) == entrypoints.INELIGIBLE_OBJECTIVE == 1.0
    assert float(reported["validation:auc"]) < 1.0      # the AUC is still reported as measured


@pytest.mark.parametrize("changes, message", [
    ({"detector": "{\"rounds\": -1}"}, "detector"),
    ({"detector": "[1, 2]"}, "JSON object of DetectorConfig fields"),
    ({"n_components": "many"}, "n_components"),
    ({"holdout": "0.7"}, "holdout"),
])
def test_trial_refuses_bad_hyperparameters_in_one_line(tmp_path, adult_csv, monkeypatch, capsys, changes, message):
    _job_root(tmp_path, adult_csv, _hyperparameters(**changes), monkeypatch)
    assert sm_main(["generator-trial-train"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert message in (tmp_path / "output" / "failure").read_text()
    assert not (tmp_path / "model" / "generator.joblib").exists()


def test_trial_on_too_few_rows_says_so(tmp_path, adult_csv, monkeypatch, capsys):
    small = tmp_path / "small.csv"
    read_table(adult_csv).iloc[:800].to_csv(small, index=False)
    _job_root(tmp_path / "job", small, _hyperparameters(), monkeypatch)
    assert sm_main(["generator-trial-train"]) == 2
    assert "selection-validation rows" in capsys.readouterr().err


def test_an_execution_of_the_tuning_variant_takes_the_tuning_parameters(capsys):
    import boto3

    from advsynth.cli import main

    with pytest.MonkeyPatch.context() as mp, mock_aws():
        _offline_env(mp)
        assert main(["pipeline", "upsert", "--role", ROLE, "--region", "us-east-1", "--bucket", BUCKET, "--tuning"]) == 0
        capsys.readouterr()
        assert main(["pipeline", "start", "--name", "AdvsynthTuning", "--param", "TuningMaxJobs=4",
                     "--param", "TuningParallelJobs=2"]) == 0
        arn = capsys.readouterr().out.strip()
        given = boto3.client("sagemaker", region_name="us-east-1").list_pipeline_parameters_for_execution(
            PipelineExecutionArn=arn)["PipelineParameters"]
        assert {p["Name"]: p["Value"] for p in given} == {"TuningMaxJobs": "4", "TuningParallelJobs": "2"}
