"""Run the adversarial pipeline in SageMaker local mode (Docker), S3 mocked by moto.

Usage::

    python -m pipelines.run_pipeline DATA.csv WORKDIR [--param Name=value ...]

How local mode works in SDK 3.27.0 (read from ``sagemaker/mlops/local`` and
``sagemaker/core/local``):

* The steps are composed with the **core**
  ``sagemaker.core.workflow.pipeline_context.LocalPipelineSession`` (its job
  classes capture requests instead of starting jobs), and executed by the
  **mlops** ``sagemaker.mlops.local.LocalPipelineSession``:
  ``create_pipeline(pipeline, description)`` then
  ``start_pipeline_execution(PipelineName=...)``. The latter runs the whole
  execution synchronously (``LocalPipelineExecutor.execute``) and returns the
  finished ``_LocalPipelineExecution`` (``describe()``, ``list_steps()``).
  ``Pipeline.create()/start()`` with the core session do not work (its
  ``LocalSagemakerClient`` has no ``create_pipeline``).
* Each training/processing step becomes a ``docker compose ... up --build
  --abort-on-container-exit`` run (``_SageMakerContainer`` in
  ``core/local/image.py``). Training containers get ``command: train``;
  processing containers get the entrypoint plus arguments.
* All S3 I/O is done by the SDK on the host through the session's boto3
  ``s3_resource``/``s3_client``: inputs are downloaded to temporary folders that
  are bind-mounted (``core/local/data.py`` ``S3DataSource`` ->
  ``download_folder``), model/output archives and processing outputs are
  uploaded afterwards (``move_to_destination`` -> ``Session.upload_data``), and
  ``JsonGet`` reads ``evaluation.json`` with ``Session.read_s3_file``. So moto's
  in-process ``mock_aws`` covers every S3 call; the containers themselves never
  touch S3 (by the container contract).
* Not emulated locally: network isolation (containers share the
  ``sagemaker-local`` compose network; the local client logs that
  ``NetworkConfig`` is unsupported), KMS, metric definitions (logs are only
  printed), instance types (must be ``"local"``), ECR pulls of non-local images
  under moto (use locally built images such as ``advsynth-detector:latest``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from pipelines.adversarial.pipeline import (
    EVALUATION_FILE,
    EVALUATION_OUTPUT,
    LOCAL_DETECTOR_IMAGE,
    STEP_EVALUATE,
    ensure_sdk_importable,
    get_pipeline,
    opt_out_telemetry,
)

logger = logging.getLogger(__name__)


try:  # one-line CLI errors (``advsynth pipeline run``) while staying Value/FileNotFoundError
    from advsynth.errors import ConfigError as _ConfigError, InputError as _InputError
except ImportError:  # pragma: no cover - advsynth is always importable beside pipelines/
    _ConfigError = _InputError = Exception


class ParameterError(_ConfigError, ValueError):
    """An unknown pipeline parameter or a value of the wrong type."""


class DataNotFoundError(_InputError, FileNotFoundError):
    """The real table given to ``run_local`` does not exist."""

DEFAULT_BUCKET = "advsynth-local"
DEFAULT_REGION = "us-east-1"
DEFAULT_PIPELINE_NAME = "AdvsynthAdversarialLocal"
TRAINING_STEP_TYPES = {"Training"}
JOB_STEP_TYPES = {"Training", "Processing"}
LOG_TAIL_LINES = 40


class _Tee(io.TextIOBase):
    """Write to the console and the log (the SDK streams container logs to sys.stdout).

    A console that goes away (``advsynth pipeline run … | head``) must not fail the step
    whose output was being printed: the console is dropped and the log keeps everything.
    """

    def __init__(self, console, log_file):
        self._console, self._log = console, log_file

    def write(self, text):  # noqa: D102
        self._log.write(text)
        if self._console is not None:
            try:
                self._console.write(text)
            except (BrokenPipeError, ValueError):  # reader gone, or console closed
                self._console = None
        return len(text)

    def flush(self):  # noqa: D102
        self._log.flush()
        if self._console is not None:
            try:
                self._console.flush()
            except (BrokenPipeError, ValueError):
                self._console = None


@contextlib.contextmanager
def _tee_stdout(path: Path) -> Iterator[None]:
    """Copy stdout (where local mode prints container output) into ``path``."""
    with open(path, "w", encoding="utf-8") as log_file:
        original = sys.stdout
        sys.stdout = _Tee(original, log_file)
        try:
            yield
        finally:
            sys.stdout = original


def _sensitive(path: Path) -> bool:
    """True if local mode refuses to mount from ``path`` (``_SENSITIVE_SYSTEM_PATHS``)."""
    from sagemaker.core.common_utils import _SENSITIVE_SYSTEM_PATHS

    resolved = str(path.resolve())
    return any(resolved != "/" and resolved.startswith(p) for p in _SENSITIVE_SYSTEM_PATHS)


def docker_compose_available() -> bool:
    """Whether the SDK would find ``docker compose`` (v2+) or ``docker-compose``."""
    from sagemaker.core.local.image import _SageMakerContainer

    try:
        _SageMakerContainer._get_compose_cmd_prefix()
        return True
    except (ImportError, OSError):
        return False


# Network of multi-instance training jobs in local mode: internal (no route out), so the
# instances reach each other (XGBoost's tracker) and nothing else, as under network isolation.
JOB_NETWORK = "advsynth-jobs"


@contextlib.contextmanager
def _containers_without_network(enabled: bool = True) -> Iterator[None]:
    """Run every local-mode job container with ``network_mode: none``.

    Why: local mode ignores ``NetworkConfig``/``enable_network_isolation`` and
    attaches each container to the ``sagemaker-local`` bridge, from which it could
    reach any address. Our containers need no network at all (the SDK moves the
    data on the host), so the compose service of each job is given
    ``network_mode: "none"`` instead of ``networks`` (compose refuses both), which
    is what network isolation means on SageMaker. ``local.container_config``
    cannot do this because the SDK always adds ``networks``. The one exception is a
    training job on several instances (distributed XGBoost): its containers share the
    internal network ``JOB_NETWORK``, which reaches no other address.
    """
    if not enabled:
        yield
        return
    from sagemaker.core.local.image import DOCKER_COMPOSE_FILENAME, _SageMakerContainer

    original_host, original_file = _SageMakerContainer._create_docker_host, _SageMakerContainer._generate_compose_file

    def isolated(self, host, environment, optml_subdirs, command, volumes):
        config = original_host(self, host, environment, optml_subdirs, command, volumes)
        config.pop("networks", None)
        if command == "train" and len(self.hosts) > 1:
            config["networks"] = {JOB_NETWORK: {"aliases": [host]}}
        else:
            config["network_mode"] = "none"
        return config

    def compose_file(self, command, *args, **kwargs):
        content = original_file(self, command, *args, **kwargs)
        if command == "train" and len(self.hosts) > 1:
            import yaml

            content["networks"] = {JOB_NETWORK: {"name": JOB_NETWORK, "internal": True}}
            with open(os.path.join(self.container_root, DOCKER_COMPOSE_FILENAME), "w") as handle:
                handle.write(yaml.dump(content, default_flow_style=False))
        return content

    _SageMakerContainer._create_docker_host = isolated
    _SageMakerContainer._generate_compose_file = compose_file
    try:
        yield
    finally:
        _SageMakerContainer._create_docker_host = original_host
        _SageMakerContainer._generate_compose_file = original_file


# Waits for every container of the job, then fails with the first non-zero exit code.
_WAIT_FOR_ALL = (
    '"$@" up --build; rc=$?; [ "$rc" -eq 0 ] || exit "$rc"; '
    'for id in $("$@" ps -q); do code=$(docker inspect -f "{{.State.ExitCode}}" "$id"); '
    '[ "$code" = 0 ] || exit "$code"; done'
)


@contextlib.contextmanager
def _jobs_end_with_their_last_instance() -> Iterator[None]:
    """A multi-instance local job ends when its last container does, and fails if any did.

    Why: local mode runs ``compose up --abort-on-container-exit``, which stops every
    container as soon as the first one exits (and reports that one's exit code): a
    sampling instance that finishes its shard early would stop the others mid-shard.
    On SageMaker a job ends when all of its instances have. ``compose up`` without the
    flag waits for all of them but always exits 0, so the containers' exit codes are
    read back with ``docker inspect``. Single-instance jobs are left as they are.
    """
    from sagemaker.core.local.image import _SageMakerContainer

    original = _SageMakerContainer._compose

    def compose(self, detached=False):
        command = original(self, detached)
        if detached or len(self.hosts) < 2:
            return command
        up = command.index("up")
        return ["sh", "-c", _WAIT_FOR_ALL, "sh", *command[:up]]

    _SageMakerContainer._compose = compose
    try:
        yield
    finally:
        _SageMakerContainer._compose = original


def _s3_parts(uri: str):
    without = uri[len("s3://"):]
    bucket, _, key = without.partition("/")
    return bucket, key


def _download_prefix(s3_client, uri: str, target: Path) -> List[str]:
    """Download every object under ``uri`` into ``target``; return the local paths."""
    bucket, prefix = _s3_parts(uri)
    paths = []
    paginator = s3_client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            rel = obj["Key"][len(prefix):].lstrip("/")
            if not rel or rel.endswith("/"):
                continue
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            s3_client.download_file(bucket, obj["Key"], str(dest))
            paths.append(str(dest))
    return paths


def _container_failure(artifacts_dir: Path, step_name: str) -> Optional[str]:
    """The ``/opt/ml/output/failure`` text a failed training container left, if any.

    Local mode still tars ``/opt/ml/output`` into ``output.tar.gz`` and uploads it
    next to ``model.tar.gz`` when the container fails (``retrieve_artifacts`` runs
    in a ``finally``), so the container's own reason can be recovered.
    """
    for archive in sorted((artifacts_dir / step_name).rglob("output.tar.gz")):
        try:
            with tarfile.open(archive) as tar:
                for member in tar.getmembers():
                    if Path(member.name).name == "failure" and member.isfile():
                        handle = tar.extractfile(member)
                        if handle is not None:
                            return handle.read().decode("utf-8", "replace").strip()
        except (tarfile.TarError, OSError):
            continue
    return None


def _log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> List[str]:
    """Last container/compose output lines of the run log (ANSI colours stripped)."""
    import re

    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    cleaned = [re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip() for line in text.splitlines()]
    return [line for line in cleaned if line][-lines:]


def run_local(
    data_path: str,
    workdir: str,
    parameters: Optional[Dict[str, Any]] = None,
    generator_image: str = "advsynth-generator:latest",
    detector_image: str = LOCAL_DETECTOR_IMAGE,
    bucket: str = DEFAULT_BUCKET,
    region: str = DEFAULT_REGION,
    pipeline_name: str = DEFAULT_PIPELINE_NAME,
    mock_s3: bool = True,
    isolate_network: bool = True,
    synthetic_path: Optional[str] = None,
) -> Dict[str, Any]:
    """Run the pipeline once in local mode and collect its results.

    Args:
        data_path: the real table, a CSV with a header row.
        synthetic_path: a synthetic table (CSV with the real table's header) to judge
            instead of generating one: runs the evaluate-only variant
            (``get_pipeline(evaluate_only=True)``), with ``SyntheticDataUri`` set to it.
        workdir: where the log, the container scratch folders and the downloaded
            run artifacts go (must not be under a path local mode refuses to
            mount, e.g. ``/root`` or ``~/.aws``; a temporary folder is used for
            the container scratch space in that case).
        parameters: pipeline parameter overrides (Python types must match the
            parameter types: int for ``Seed``, float for ``AucThreshold``...).
        generator_image / detector_image: locally built images.
        bucket, region: the (mocked) S3 bucket and the region.
        pipeline_name: name of the local pipeline.
        mock_s3: run inside moto's ``mock_aws`` (default). With False, real S3
            is used with the ambient credentials and ``bucket`` must exist.
        isolate_network: run the job containers with no network at all
            (default; see ``_containers_without_network``).

    Returns:
        ``{"execution_id", "status", "failure_reason", "steps", "failed_steps",
        "evaluation", "run_prefix", "artifacts_dir", "log_path"}`` (also written
        to ``WORKDIR/result.json``): ``steps`` is
        ``list_steps()`` in execution order, ``failed_steps`` maps each failed
        step to its ``FailureReason`` (plus ``container_failure`` for a training
        container that wrote ``/opt/ml/output/failure`` and ``log_tail``, the
        job's last output lines, for a job step), ``evaluation`` is the
        parsed ``evaluation.json`` (None if EvaluateDetector did not finish).
    """
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")
    ensure_sdk_importable(region)

    data = Path(data_path).resolve()
    if not data.is_file():
        raise DataNotFoundError(f"no such CSV: {data}")
    synthetic = Path(synthetic_path).resolve() if synthetic_path is not None else None
    if synthetic is not None and not synthetic.is_file():
        raise DataNotFoundError(f"no such CSV: {synthetic}")
    work = Path(workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    log_path = work / "local-run.log"
    containers_root: Optional[Path] = work / "containers"
    if _sensitive(work):
        logger.warning("%s is under a path local mode will not mount; using a temp dir", work)
        containers_root = Path(tempfile.mkdtemp(prefix="advsynth-local-"))
    containers_root.mkdir(parents=True, exist_ok=True)

    if not docker_compose_available():
        logger.warning(
            "Docker Compose not found: every job step will fail "
            "(local mode runs `docker compose up`)."
        )

    mock = contextlib.nullcontext()
    if mock_s3:
        from moto import mock_aws

        mock = mock_aws()

    with mock, _tee_stdout(log_path), _containers_without_network(isolate_network), \
            _jobs_end_with_their_last_instance():
        import boto3
        from sagemaker.core.workflow.pipeline_context import (
            LocalPipelineSession as StepSession,
        )
        from sagemaker.mlops.local import LocalPipelineSession as RunnerSession

        boto_session = boto3.Session(region_name=region)
        s3 = boto_session.client("s3")
        if mock_s3:
            if region == "us-east-1":
                s3.create_bucket(Bucket=bucket)
            else:
                s3.create_bucket(
                    Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
                )
        input_key = f"input/real/{data.name}"
        s3.upload_file(str(data), bucket, input_key)
        if synthetic is not None:
            synthetic_key = f"input/synthetic/{synthetic.name}"
            s3.upload_file(str(synthetic), bucket, synthetic_key)
        output_prefix = f"s3://{bucket}/runs"

        step_session = opt_out_telemetry(
            StepSession(boto_session=boto_session, default_bucket=bucket)
        )
        pipeline = get_pipeline(
            region=region,
            default_bucket=bucket,
            pipeline_name=pipeline_name,
            sagemaker_session=step_session,
            generator_image=generator_image,
            local=True,
            evaluate_only=synthetic is not None,
        )

        runner = opt_out_telemetry(RunnerSession(boto_session=boto_session, default_bucket=bucket))
        runner.config = {"local": {"container_root": str(containers_root)}}
        runner.create_pipeline(pipeline, "advsynth adversarial evaluation (local mode)")

        overrides: Dict[str, Any] = {
            "InputDataUri": f"s3://{bucket}/{input_key}",
            "OutputPrefix": output_prefix,
            "DetectorImage": detector_image,
        }
        if synthetic is not None:
            overrides["SyntheticDataUri"] = f"s3://{bucket}/{synthetic_key}"
        overrides.update(parameters or {})
        # Local mode checks the exact Python type (1 is not a valid ParameterFloat).
        types = {param.name: param.parameter_type.python_type for param in pipeline.parameters}
        unknown = sorted(set(overrides) - set(types))
        if unknown:
            raise ParameterError(
                f"unknown pipeline parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(types))}"
            )
        converted = {}
        for name, value in overrides.items():
            try:
                converted[name] = types[name](value)
            except (TypeError, ValueError):
                raise ParameterError(
                    f"pipeline parameter {name} must be {types[name].__name__}, got {value!r}"
                ) from None
        overrides = converted
        # Runs every step before returning (local executions are synchronous).
        execution = runner.start_pipeline_execution(
            PipelineName=pipeline.name, PipelineParameters=overrides
        )

        described = execution.describe()
        execution_id = described["PipelineExecutionArn"]
        steps = execution.list_steps()["PipelineExecutionSteps"]
        run_prefix = f"{overrides['OutputPrefix'].rstrip('/')}/{execution_id}"

        # The mocked bucket vanishes with the mock: copy the run's outputs out.
        artifacts_dir = work / "runs" / execution_id
        _download_prefix(s3, run_prefix, artifacts_dir)

    step_types = pipeline_step_types(pipeline)
    failed = {
        step["StepName"]: step.get("FailureReason", "")
        for step in steps
        if step.get("StepStatus") == "Failed"
    }
    failed_steps: Dict[str, Dict[str, Any]] = {}
    for name, reason in failed.items():
        entry: Dict[str, Any] = {"FailureReason": reason}
        step_type = step_types.get(name)
        if step_type in TRAINING_STEP_TYPES:
            container_reason = _container_failure(artifacts_dir, name)
            if container_reason:
                entry["container_failure"] = container_reason
        if step_type in JOB_STEP_TYPES:
            # Execution stops at the first failure, so the log ends with this job's output.
            entry["log_tail"] = _log_tail(log_path)
        failed_steps[name] = entry

    evaluation = None
    evaluation_file = artifacts_dir / STEP_EVALUATE / EVALUATION_OUTPUT / EVALUATION_FILE
    if evaluation_file.is_file():
        evaluation = json.loads(evaluation_file.read_text())

    result = {
        "pipeline_name": pipeline.name,
        "execution_id": execution_id,
        "status": described.get("PipelineExecutionStatus"),
        "failure_reason": described.get("FailureReason"),
        "steps": steps,
        "failed_steps": failed_steps,
        "evaluation": evaluation,
        "run_prefix": run_prefix,
        "artifacts_dir": str(artifacts_dir),
        "log_path": str(log_path),
    }
    (work / "result.json").write_text(json.dumps(result, indent=2, default=str))
    return result


def pipeline_step_types(pipeline) -> Dict[str, str]:
    """Step name -> step type value ("Training", "Processing", ...), nested steps included."""
    from sagemaker.mlops.workflow.pipeline import PipelineGraph

    types = {}
    for step in PipelineGraph.from_pipeline(pipeline).step_map.values():
        types[step.name] = step.step_type.value
    return types


def _parse_param(text: str):
    name, _, raw = text.partition("=")
    if not name or not _:
        raise argparse.ArgumentTypeError(f"expected Name=value, got {text!r}")
    for cast in (int, float):
        try:
            return name, cast(raw)
        except ValueError:
            pass
    return name, raw


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.run_pipeline",
        description="Run the advsynth pipeline in SageMaker local mode (needs Docker).",
    )
    parser.add_argument("data", help="real table (CSV with a header row)")
    parser.add_argument("workdir", help="folder for logs, scratch space and run artifacts")
    parser.add_argument("--param", action="append", type=_parse_param, default=[],
                        help="parameter override Name=value (repeatable)")
    parser.add_argument("--synthetic", help="judge this synthetic table (CSV) instead of generating one")
    parser.add_argument("--generator-image", default="advsynth-generator:latest")
    parser.add_argument("--detector-image", default=LOCAL_DETECTOR_IMAGE)
    parser.add_argument("--bucket", default=DEFAULT_BUCKET)
    parser.add_argument("--region", default=DEFAULT_REGION)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    result = run_local(
        args.data,
        args.workdir,
        parameters=dict(args.param),
        generator_image=args.generator_image,
        detector_image=args.detector_image,
        bucket=args.bucket,
        region=args.region,
        synthetic_path=args.synthetic,
    )
    print(json.dumps(result, indent=2, default=str))
    return 0 if result["status"] == "Succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
