"""``python -m advsynth.sagemaker COMMAND [ARGS...]``: run one container command.

COMMAND is generator-train, generator-trial-train, detector-train (training jobs; the
image's ``train`` picks one by ``ADVSYNTH_ROLE``), sample or evaluate (processing jobs). Exit codes:
0 success, 2 a problem with the input or configuration (one line on stderr and in
the failure file), 1 an unexpected error (traceback on stderr).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import List, Optional

# The images' ENTRYPOINT (containers/train under a second name): makes the /opt/ml
# output folders writable for uid 1000 and drops root (see containers/README.md).
ENTRY = "/usr/local/bin/advsynth-entry"
ENTRY_DONE_ENV = "ADVSYNTH_ENTRY_DONE"

USAGE = "usage: python -m advsynth.sagemaker {generator-train,generator-trial-train,detector-train,sample,evaluate} [ARGS...]"


def drop_root_if_needed(argv: List[str]) -> None:
    """Re-exec this command through ``advsynth-entry`` when started as root in our image.

    Why: a processing job's ContainerEntrypoint (``python -m advsynth.sagemaker
    sample``) replaces the image ENTRYPOINT, so without this the job would run as
    root. Only inside the advsynth images (``ADVSYNTH_ROLE`` set, the entry script
    present), once (``ADVSYNTH_ENTRY_DONE``), and never with ``ADVSYNTH_KEEP_ROOT=1``.
    """
    if (
        not hasattr(os, "geteuid") or os.geteuid() != 0
        or not os.environ.get("ADVSYNTH_ROLE")
        or os.environ.get(ENTRY_DONE_ENV)
        or os.environ.get("ADVSYNTH_KEEP_ROOT") == "1"
        or not os.access(ENTRY, os.X_OK)
    ):
        return
    os.environ[ENTRY_DONE_ENV] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(ENTRY, [ENTRY, sys.executable, "-m", "advsynth.sagemaker", *argv])


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=os.environ.get("ADVSYNTH_LOG_LEVEL", "INFO").upper(),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from . import contract
    from .entrypoints import COMMANDS

    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        def unknown():
            from ..errors import ConfigError

            raise ConfigError(f"unknown command {command!r}; {USAGE}")

        return contract.run_entrypoint(unknown, contract.TRAINING)
    fn, kind = COMMANDS[command]
    return contract.run_entrypoint(lambda: fn(rest), kind)


if __name__ == "__main__":
    drop_root_if_needed(sys.argv[1:])
    sys.exit(main())
