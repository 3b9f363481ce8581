"""The ``editbench`` command. Each module here adds one group of commands: it parses, calls one
function of the producer, queue, workers, cluster or report layers, and prints. Nothing imports
the CLI, and the CLI opens no database session of its own."""

from __future__ import annotations

import os

import click

from editbench import __version__
from editbench.cli.benchmarks import benchmarks_command, example_command, ingest_command
from editbench.cli.cluster import demo_command, up_command, worker_command
from editbench.cli.contract import EditbenchGroup, set_debug
from editbench.cli.importers import import_command
from editbench.cli.models import models_group
from editbench.cli.report import compare_command, export_command, leaderboard_command, report_command
from editbench.cli.runs import (
    cancel_command,
    follow_command,
    judge_command,
    resume_command,
    run_command,
    runs_command,
    status_command,
)

# Model code must never reach a hub: weights come from local folders only.
for _flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_flag, "1")


@click.group(name="editbench", cls=EditbenchGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="editbench")
@click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=set_debug,
    help="Print the full traceback of an unexpected error (also: EDITBENCH_DEBUG=1).",
)
def main() -> None:
    """Benchmark instruction-based image editors on a pool of GPUs, judged by a VLM.

    \b
    Typical session:
      editbench example ./my-bench          # or: editbench import gedit SRC ./my-bench
      editbench ingest ./my-bench
      editbench up --cpu-workers 2 &        # or one worker per GPU: editbench up
      editbench run --benchmark editbench-example \\
          --editor qwen-image-edit:/models/Qwen-Image-Edit \\
          --judge qwen3-vl:/models/Qwen3-VL-8B-Instruct --param steps=50 --wait
      editbench report 1

    `editbench demo` does all of that on tiny offline models in about a minute.
    Settings come from the environment: EDITBENCH_HOME (default ./.editbench),
    EDITBENCH_DATABASE_URL (default SQLite in EDITBENCH_HOME), EDITBENCH_BROKER_URL
    (default: the embedded Redis started by `editbench up`), EDITBENCH_STORE_URL (where
    images live: default EDITBENCH_HOME, or s3://bucket/prefix; see docs/deploy.md).

    \b
    Runs: `editbench runs` lists them; every command that takes a RUN accepts its id or name.
    Exit codes: 0 success, 1 failure (incl. `run --wait` with failed samples), 2 bad input;
    every error is one `error: ...` line on stderr (docs/cli.md).
    """
    from editbench.storage import StorageSettings

    # A bad store URL is one clear error here (StorageURLError: bad input, exit 2), not a
    # failure per sample in the workers.
    StorageSettings.from_env()


for _command in (
    example_command,
    ingest_command,
    benchmarks_command,
    run_command,
    runs_command,
    status_command,
    resume_command,
    follow_command,
    cancel_command,
    judge_command,
    up_command,
    worker_command,
    demo_command,
    report_command,
    compare_command,
    export_command,
    leaderboard_command,
    import_command,
    models_group,
):
    main.add_command(_command)
