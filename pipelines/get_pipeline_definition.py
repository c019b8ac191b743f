"""Print the adversarial pipeline's JSON definition, offline, without AWS credentials.

Usage::

    python -m pipelines.get_pipeline_definition [--role ARN] [--region R] [--bucket B] [--local]

Why offline matters: the definition is what gets reviewed and diffed in CI, so
producing it must not need an AWS account. Two SDK 3.27 behaviours are switched
off for that before ``sagemaker.mlops`` is imported: the import-time
``boto3.client("sagemaker")`` needs a region (``AWS_DEFAULT_REGION``, default
us-east-1), and ``ModelTrainer`` validates the role against IAM unless
``SAGEMAKER_VALIDATE_ROLE=false``. Telemetry is opted out of on the session.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, List, Optional

DEFAULT_REGION = "us-east-1"
# Placeholders: the definition only embeds them. Deploy with a real role/bucket.
DEFAULT_ROLE = "arn:aws:iam::000000000000:role/AdvsynthSageMakerExecutionRole"
DEFAULT_BUCKET = "advsynth-artifacts"


def prepare_offline_env(region: Optional[str] = None) -> None:
    """Set the environment the SDK needs to build a definition offline.

    Must run before ``sagemaker.mlops`` is first imported. Explicit values in the
    environment win, except that a ``region`` argument sets the default region.
    """
    if region:
        os.environ["AWS_DEFAULT_REGION"] = region
    else:
        os.environ.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)
    os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")


def definition(
    role: str = DEFAULT_ROLE,
    region: Optional[str] = None,
    bucket: str = DEFAULT_BUCKET,
    local: bool = False,
    indent: Optional[int] = None,
    **kwargs: Any,
) -> str:
    """Return the pipeline definition JSON for ``get_pipeline(**kwargs)``.

    ``kwargs`` go to ``pipelines.adversarial.pipeline.get_pipeline`` (e.g.
    ``pipeline_name``, ``generator_image``, ``kms_key``). Nothing calls AWS.
    """
    region = region or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    prepare_offline_env(region)
    from pipelines.adversarial.pipeline import get_pipeline, get_session

    session = kwargs.pop("sagemaker_session", None) or get_session(
        region, bucket, local=local, telemetry_opt_out=True
    )
    pipeline = get_pipeline(
        region=region,
        role=role,
        default_bucket=bucket,
        sagemaker_session=session,
        local=local,
        **kwargs,
    )
    text = pipeline.definition()
    if indent is not None:
        text = json.dumps(json.loads(text), indent=indent)
    return text


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.get_pipeline_definition",
        description="Print the advsynth adversarial pipeline definition (offline).",
    )
    parser.add_argument("--role", default=DEFAULT_ROLE, help="execution role ARN of the jobs")
    parser.add_argument("--region", default=None, help=f"AWS region (default {DEFAULT_REGION})")
    parser.add_argument("--bucket", default=DEFAULT_BUCKET,
                        help="bucket of the default InputDataUri/OutputPrefix")
    parser.add_argument("--local", action="store_true",
                        help="compose for SageMaker local mode (instance type 'local')")
    parser.add_argument("--pipeline-name", default="AdvsynthAdversarial")
    parser.add_argument("--generator-image", default="advsynth-generator:latest")
    parser.add_argument("--kms-key", default=None)
    parser.add_argument("--indent", type=int, default=2, help="JSON indent (-1: compact)")
    args = parser.parse_args(argv)
    print(
        definition(
            role=args.role,
            region=args.region,
            bucket=args.bucket,
            local=args.local,
            indent=None if args.indent < 0 else args.indent,
            pipeline_name=args.pipeline_name,
            generator_image=args.generator_image,
            kms_key=args.kms_key,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
