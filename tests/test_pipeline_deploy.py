"""pipelines.deploy against moto's SageMaker and EventBridge Scheduler (no real AWS).

moto 5.2.5 records pipelines and executions (an execution is marked Succeeded
at once, no step runs) and implements EventBridge Scheduler, which is what the
SDK's ``PipelineSchedule`` triggers create.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/AdvsynthPipeline"
SCHEDULER_ROLE = "arn:aws:iam::123456789012:role/AdvsynthScheduler"
BUCKET = "advsynth-deploy-test"
NAME = "AdvsynthAdversarialTest"
CRON = "0 3 * * ? *"


@pytest.fixture
def aws(monkeypatch):
    """A moto-backed account and a PipelineSession bound to it."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")  # moto has no IAM policy simulation
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        from pipelines.adversarial.pipeline import get_session

        yield get_session(REGION, BUCKET)


@pytest.fixture
def deployed(aws):
    from pipelines import deploy

    response = deploy.upsert(ROLE, region=REGION, default_bucket=BUCKET, pipeline_name=NAME,
                             session=aws)
    return aws, response


def test_upsert_creates_the_pipeline(deployed):
    _, response = deployed
    assert response["PipelineArn"] == f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/{NAME}"
    described = boto3.client("sagemaker", region_name=REGION).describe_pipeline(
        PipelineName=NAME)
    assert described["PipelineName"] == NAME
    assert described["RoleArn"] == ROLE
    definition = json.loads(described["PipelineDefinition"])
    assert [s["Name"] for s in definition["Steps"]] == [
        "FitGenerator", "SampleSynthetic", "PrepareDetectorData", "TrainDetector", "EvaluateDetector", "AucGate",
        "PrivacyGate"]


def test_upsert_updates_an_existing_pipeline(deployed):
    from pipelines import deploy

    session, _ = deployed
    deploy.upsert(ROLE, region=REGION, default_bucket=BUCKET, pipeline_name=NAME,
                  session=session, generator_image="advsynth-generator:2")
    described = boto3.client("sagemaker", region_name=REGION).describe_pipeline(
        PipelineName=NAME)
    steps = json.loads(described["PipelineDefinition"])["Steps"]
    assert steps[0]["Arguments"]["AlgorithmSpecification"]["TrainingImage"] == (
        "advsynth-generator:2")


def test_start_returns_an_execution_arn(deployed):
    from pipelines import deploy

    session, _ = deployed
    arn = deploy.start(NAME, {"Seed": 7, "AucThreshold": 0.8}, session=session)
    assert arn.startswith(f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/{NAME}/execution/")
    client = boto3.client("sagemaker", region_name=REGION)
    assert client.describe_pipeline_execution(PipelineExecutionArn=arn)[
        "PipelineExecutionArn"] == arn
    params = client.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)
    assert {p["Name"]: p["Value"] for p in params["PipelineParameters"]} == {
        "Seed": "7", "AucThreshold": "0.8"}


def test_schedule_disable_delete(deployed):
    from pipelines import deploy

    session, response = deployed
    scheduler = boto3.client("scheduler", region_name=REGION)

    arn = deploy.schedule(NAME, CRON, SCHEDULER_ROLE, session=session)
    assert arn.endswith(f":schedule/default/{NAME}")
    got = scheduler.get_schedule(Name=NAME)
    assert got["ScheduleExpression"] == f"cron({CRON})"
    assert got["State"] == "ENABLED"
    assert got["Target"]["RoleArn"] == SCHEDULER_ROLE
    assert got["Target"]["Arn"] == response["PipelineArn"]

    assert deploy.disable_schedule(NAME, session=session) == arn
    got = scheduler.get_schedule(Name=NAME)
    assert got["State"] == "DISABLED"
    assert got["ScheduleExpression"] == f"cron({CRON})"
    assert got["Target"]["RoleArn"] == SCHEDULER_ROLE

    deploy.enable_schedule(NAME, session=session)
    assert scheduler.get_schedule(Name=NAME)["State"] == "ENABLED"

    deploy.delete_schedule(NAME, session=session)
    with pytest.raises(ClientError) as err:
        scheduler.get_schedule(Name=NAME)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    deploy.delete_schedule(NAME, session=session)  # deleting again is harmless


def test_named_schedule(deployed):
    from pipelines import deploy

    session, _ = deployed
    deploy.schedule(NAME, "30 6 ? * MON *", SCHEDULER_ROLE, schedule_name="weekly",
                    session=session)
    scheduler = boto3.client("scheduler", region_name=REGION)
    assert scheduler.get_schedule(Name="weekly")["ScheduleExpression"] == "cron(30 6 ? * MON *)"
    assert deploy.describe_schedule(NAME, "weekly", session=session)["Schedule_State"] == (
        "ENABLED")
    deploy.disable_schedule(NAME, "weekly", session=session)
    assert scheduler.get_schedule(Name="weekly")["State"] == "DISABLED"
    deploy.delete_schedule(NAME, "weekly", session=session)
    assert scheduler.list_schedules()["Schedules"] == []


def test_schedule_needs_an_existing_pipeline(aws):
    from pipelines import deploy

    with pytest.raises((RuntimeError, ClientError)):
        deploy.schedule("DoesNotExist", CRON, SCHEDULER_ROLE, session=aws)


def test_cli_upsert_passes_the_image_and_kms_key(aws, capsys):
    """`advsynth pipeline upsert` as a user types it, against moto."""
    from advsynth.cli import main

    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert main(["pipeline", "upsert", "--role", ROLE, "--region", REGION, "--bucket", BUCKET, "--name", NAME,
                 "--generator-image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/advsynth:7",
                 "--kms-key", key]) == 0
    assert NAME in json.loads(capsys.readouterr().out)["PipelineArn"]
    definition = json.loads(boto3.client("sagemaker", region_name=REGION).describe_pipeline(
        PipelineName=NAME)["PipelineDefinition"])
    fit = definition["Steps"][0]["Arguments"]
    assert fit["AlgorithmSpecification"]["TrainingImage"].endswith("/advsynth:7")
    assert key in json.dumps(fit)


def test_cli_upsert_evaluate_only_deploys_the_variant_beside_the_generating_pipeline(aws, capsys):
    """`advsynth pipeline upsert --evaluate-only` creates AdvsynthEvaluate; AdvsynthAdversarial stays."""
    from advsynth.cli import main

    args = ["pipeline", "upsert", "--role", ROLE, "--region", REGION, "--bucket", BUCKET]
    assert main(args) == 0
    assert main(args + ["--evaluate-only"]) == 0
    client = boto3.client("sagemaker", region_name=REGION)
    steps = {name: [s["Name"] for s in json.loads(client.describe_pipeline(PipelineName=name)["PipelineDefinition"])["Steps"]]
             for name in ("AdvsynthAdversarial", "AdvsynthEvaluate")}
    assert steps["AdvsynthAdversarial"][0] == "FitGenerator"
    assert steps["AdvsynthEvaluate"] == ["PrepareDetectorData", "TrainDetector", "EvaluateDetector", "AucGate"]
    params = json.loads(client.describe_pipeline(PipelineName="AdvsynthEvaluate")["PipelineDefinition"])["Parameters"]
    assert "SyntheticDataUri" in {p["Name"] for p in params}
