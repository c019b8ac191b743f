"""Create/update, start and schedule the adversarial pipeline on SageMaker.

Thin wrappers over the SDK (``Pipeline.upsert``, ``Pipeline.start``,
``Pipeline.put_triggers`` / ``describe_trigger`` / ``delete_triggers``), so that
scripts, CI and tests share one way of doing each. Every function accepts a
``session`` (a ``sagemaker`` ``PipelineSession``); when None, one is built from
the default boto3 configuration (``region`` where offered).

Schedules are EventBridge Scheduler schedules targeting the pipeline. They cannot
pass parameters, which is why every pipeline parameter has a default. Their role
must be assumable by ``scheduler.amazonaws.com`` and allowed
``sagemaker:StartPipelineExecution`` on the pipeline.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Dict, List, Optional

from pipelines.adversarial.pipeline import (
    ensure_sdk_importable,
    get_parameters,
    get_pipeline,
    get_session,
)

DEFAULT_PIPELINE_NAME = "AdvsynthAdversarial"
DEFAULT_DESCRIPTION = (
    "advsynth adversarial evaluation: fit generator, sample, train XGBoost detector, "
    "evaluate, gate on ROC AUC"
)


def _session(session: Any = None, region: Optional[str] = None, default_bucket=None) -> Any:
    return session if session is not None else get_session(region, default_bucket)


def _pipeline_handle(pipeline_name: str, session: Any):
    """A ``Pipeline`` object naming an existing pipeline, for start/trigger calls.

    Why not rebuild the steps: start and the trigger calls only use the name and
    (for ``put_triggers``) the parameters, whose defaults are validated before a
    schedule is created.
    """
    ensure_sdk_importable()
    from sagemaker.mlops.workflow.pipeline import Pipeline

    return Pipeline(name=pipeline_name, parameters=get_parameters(), sagemaker_session=session)


def upsert(
    role_arn: str,
    region: Optional[str] = None,
    default_bucket: Optional[str] = None,
    pipeline_name: str = DEFAULT_PIPELINE_NAME,
    description: str = DEFAULT_DESCRIPTION,
    tags: Optional[List[Dict[str, str]]] = None,
    session: Any = None,
    **pipeline_kwargs: Any,
) -> Dict[str, Any]:
    """Create the pipeline, or update it if it exists; return the service response.

    ``role_arn`` is both the pipeline's role and the jobs' execution role.
    ``pipeline_kwargs`` go to ``get_pipeline`` (``generator_image``, ``kms_key``,
    ``network_isolation``, ``base_job_prefix``).
    """
    session = _session(session, region, default_bucket)
    pipeline = get_pipeline(
        region=region,
        role=role_arn,
        default_bucket=default_bucket,
        pipeline_name=pipeline_name,
        sagemaker_session=session,
        **pipeline_kwargs,
    )
    return pipeline.upsert(role_arn=role_arn, description=description, tags=tags)


def start(
    pipeline_name: str = DEFAULT_PIPELINE_NAME,
    parameters: Optional[Dict[str, Any]] = None,
    session: Any = None,
    execution_display_name: Optional[str] = None,
    execution_description: Optional[str] = None,
) -> str:
    """Start an execution with parameter overrides; return the execution ARN."""
    pipeline = _pipeline_handle(pipeline_name, _session(session))
    execution = pipeline.start(
        parameters=parameters or None,
        execution_display_name=execution_display_name,
        execution_description=execution_description,
    )
    return execution.arn


def schedule(
    pipeline_name: str,
    cron: str,
    role_arn: str,
    schedule_name: Optional[str] = None,
    enabled: bool = True,
    start_date: Optional[_dt.datetime] = None,
    session: Any = None,
) -> str:
    """Create or update an EventBridge Scheduler schedule; return its ARN.

    ``cron`` is the six-field EventBridge expression without ``cron(...)``, e.g.
    ``"0 3 * * ? *"`` (03:00 UTC daily). The schedule name defaults to the
    pipeline name (SDK convention).
    """
    ensure_sdk_importable()
    from sagemaker.mlops.workflow.triggers import PipelineSchedule

    pipeline = _pipeline_handle(pipeline_name, _session(session))
    trigger = PipelineSchedule(
        name=schedule_name, cron=cron, enabled=enabled, start_date=start_date
    )
    arns = pipeline.put_triggers(triggers=[trigger], role_arn=role_arn)
    return arns[0]


def describe_schedule(pipeline_name: str, schedule_name: Optional[str] = None,
                      session: Any = None) -> Dict[str, Any]:
    """The SDK's view of a schedule (ARN, expression, state, start date, role)."""
    pipeline = _pipeline_handle(pipeline_name, _session(session))
    return pipeline.describe_trigger(trigger_name=schedule_name or pipeline_name)


def _set_schedule_state(pipeline_name: str, schedule_name: Optional[str], enabled: bool,
                        role_arn: Optional[str], session: Any) -> str:
    """Re-put an existing schedule with the same expression, start date and role."""
    from sagemaker.mlops.workflow._event_bridge_client_helper import (
        EXECUTION_TIME_PIPELINE_PARAMETER_FORMAT,
    )
    from sagemaker.mlops.workflow.triggers import PipelineSchedule

    name = schedule_name or pipeline_name
    pipeline = _pipeline_handle(pipeline_name, _session(session))
    current = pipeline.describe_trigger(trigger_name=name)
    expression = current["Schedule_Expression"]
    start_date = _dt.datetime.strptime(
        current["Schedule_Start_Date"], EXECUTION_TIME_PIPELINE_PARAMETER_FORMAT
    ).replace(tzinfo=_dt.timezone.utc)
    trigger = PipelineSchedule(name=name, enabled=enabled, start_date=start_date,
                               **_schedule_kwargs(expression))
    arns = pipeline.put_triggers(
        triggers=[trigger], role_arn=role_arn or current["Schedule_Role"]
    )
    return arns[0]


def _schedule_kwargs(expression: str) -> Dict[str, Any]:
    """Turn ``cron(...)`` / ``rate(n unit)`` / ``at(...)`` back into PipelineSchedule kwargs."""
    match = re.fullmatch(r"(cron|rate|at)\((.*)\)", expression.strip())
    if not match:
        raise ValueError(f"unrecognised schedule expression: {expression!r}")
    kind, body = match.groups()
    if kind == "cron":
        return {"cron": body}
    if kind == "rate":
        value, unit = body.split()
        return {"rate": (int(value), unit)}
    return {"at": _dt.datetime.strptime(body, "%Y-%m-%dT%H:%M:%S")}


def disable_schedule(pipeline_name: str, schedule_name: Optional[str] = None,
                     role_arn: Optional[str] = None, session: Any = None) -> str:
    """Set an existing schedule to DISABLED (kept, not deleted); return its ARN."""
    return _set_schedule_state(pipeline_name, schedule_name, False, role_arn, session)


def enable_schedule(pipeline_name: str, schedule_name: Optional[str] = None,
                    role_arn: Optional[str] = None, session: Any = None) -> str:
    """Set an existing schedule back to ENABLED; return its ARN."""
    return _set_schedule_state(pipeline_name, schedule_name, True, role_arn, session)


def delete_schedule(pipeline_name: str, schedule_name: Optional[str] = None,
                    session: Any = None) -> None:
    """Delete a schedule (a missing schedule is only logged, as the SDK does)."""
    pipeline = _pipeline_handle(pipeline_name, _session(session))
    pipeline.delete_triggers(trigger_names=[schedule_name or pipeline_name])
