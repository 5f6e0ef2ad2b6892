"""`python -m pipelines.run [--date YYYY-MM-DD]`: one observation of the account, headless.

Without --date it observes now: it runs the `nightly_export` job in this process. The service
lists tasks as they are now, so a date can only mean what can be true of it: today (UTC) is
observed now; a date that has a stored observation is reloaded from the tree (the
`reload_warehouse` job: no request to the service, its facts unchanged); any other date is
refused in one line, before anything runs. It prints the export's own progress lines (not
Dagster's step events) and, when the run fails, the one line that says why, with no traceback
unless `--debug` is given (or MIXPEEK_DEBUG=1). Exit codes: 0 done, 1 the run failed, 2 the
command line was wrong (a date that cannot be observed among them), 130 it was interrupted
(Ctrl-C). `make demo` and a cron
line call it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import sys
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timezone

from dagster import DagsterInstance, ExecuteInProcessResult, InitLoggerContext, logger

from mixpeek_tasks import settings
from mixpeek_tasks.preflight import PreflightError, tree_from_environment
from mixpeek_tasks.secrets import mask
from mixpeek_tasks.snapshot.staging import staged_tasks
from mixpeek_tasks.snapshot.tree import SnapshotTree
from pipelines.definitions import defs
from pipelines.instance import instance_from

JOB = "nightly_export"
RELOAD_JOB = "reload_warehouse"


@dataclass(frozen=True)
class RunOutcome:
    succeeded: bool
    # The failure's one line (None on success), and the whole story for --debug.
    reason: str | None = None
    details: str | None = None
    # Stopped by Ctrl-C (SIGINT): not a failure to explain, a run to resume.
    interrupted: bool = False


@logger(description="progress lines for a person at a terminal: time, step, message")
def _terminal(init_context: InitLoggerContext) -> logging.Logger:
    out = logging.getLogger("mixpeek_tasks.run")
    out.setLevel(logging.INFO)
    out.propagate = False
    if not out.handlers:
        handler = _ProgressHandler(sys.stdout)
        handler.setFormatter(_StepFormatter())
        handler.addFilter(_UserLinesOnly())
        out.addHandler(handler)
    return out


class _UserLinesOnly(logging.Filter):
    """Dagster's own events (step started, output, failure with its traceback) are for the UI;
    a person at a terminal reads what the steps said."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Errors are Dagster's too ("dependencies failed, not executing"): the run's failure
        # is said once, at the end.
        return record.levelno < logging.ERROR and (
            getattr(record, "dagster_meta", None) or {}).get("dagster_event") is None


class _ProgressHandler(logging.StreamHandler):
    """On a terminal, progress lines ("... 45% of 100,000 ...") redraw one bar in place; other
    lines, and everything when the output is a file or a pipe, are printed as they come."""

    WIDTH = 30

    def __init__(self, stream):
        super().__init__(stream)
        self.redrawing = False

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        share = _PROGRESS.search(line)
        if not (share and self.stream.isatty()):
            self.terminator = "\n"
            if self.redrawing:
                self.stream.write("\n")
                self.redrawing = False
            return super().emit(record)
        filled = round(self.WIDTH * int(share.group(1)) / 100)
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {line}\x1b[K")
        self.stream.flush()
        self.redrawing = True


_PROGRESS = re.compile(r"(\d+)% of [\d,]+")


class _StepFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", {}) or {}
        step = meta.get("step_key") or ""
        when = datetime.fromtimestamp(record.created, timezone.utc).strftime("%H:%M:%S")
        message = meta.get("orig_message") or record.getMessage()
        return f"{when} {step + ': ' if step else ''}{message}"


def job_for_date(text: str, tree: SnapshotTree, today: date | None = None) -> str:
    """The job `--date text` runs: an observation now for today (UTC), a reload for a date
    with a stored observation; ValueError in one line for any other date."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date: give it as YYYY-MM-DD") from None
    today = today or datetime.now(timezone.utc).date()
    if day == today:
        return JOB
    if day < today and tree.observed_on(day):
        return RELOAD_JOB
    stored = sorted({o.observed_on.isoformat() for o in tree.observations()})
    when = "is in the future" if day > today else "has no stored observation"
    held = f"dates stored: {', '.join(stored[-5:])}" if stored else "none stored yet"
    raise ValueError(
        f"{day} {when}, and it cannot be observed: the service lists tasks as they are now,"
        f" so a listing would file today's tasks under {day}; run without --date to observe"
        f" now, or give a date with a stored observation to reload it ({held})")


def run_job(name: str = JOB, instance: DagsterInstance | None = None, *,
            full: bool = False) -> RunOutcome:
    """Run the job `name` (an observation now, listing every task with `full`, or a reload);
    its failure, if any, as one line."""
    job = defs.resolve_job_def(name).with_logger_defs({"console": _terminal})
    with warnings.catch_warnings(), contextlib.ExitStack() as owned:
        warnings.simplefilter("ignore")  # Dagster's beta and deprecation notices: not for users
        if instance is None:
            instance = owned.enter_context(instance_from(settings.DAGSTER_HOME.read(), print))
        # Naming the logger in the run config is what makes Dagster use it instead of its own;
        # the reload job's own config (rebuild) is its default, kept beside it.
        config = {"loggers": {"console": {}}}
        if name == RELOAD_JOB:
            config["ops"] = {"warehouse_tasks": {"config": {"rebuild": True}}}
        elif full:
            config["ops"] = {"task_snapshot": {"config": {"full": True}}}
        result = job.execute_in_process(instance=instance, raise_on_error=False,
                                        run_config=config)
    return RunOutcome(True) if result.success else _failure(result)


def _failure(result: ExecuteInProcessResult) -> RunOutcome:
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        data = event.step_failure_data
        error = data.error
        details = error.to_string() if error else None
        if _interruption(error):
            return RunOutcome(False, f"{event.step_key}: interrupted", details, interrupted=True)
        if data.user_failure_data is not None and data.user_failure_data.description:
            return RunOutcome(False, f"{event.step_key}: {data.user_failure_data.description}",
                              details)
        # An unexpected error: its innermost cause is what happened.
        while error is not None and error.cause is not None:
            error = error.cause
        line = f"{error.cls_name}: {error.message.strip()}" if error else "unknown error"
        return RunOutcome(False, f"{event.step_key}: {line.splitlines()[0]}", details)
    return RunOutcome(False, "the run failed before any step ran", None)


def _interruption(error) -> bool:
    """Whether a step's error (Dagster's SerializableErrorInfo) is, or was caused by, Ctrl-C."""
    while error is not None:
        if error.cls_name in ("DagsterExecutionInterruptedError", "KeyboardInterrupt"):
            return True
        error = error.cause or error.context
    return False


def resume_line() -> str:
    """What an interrupted observation leaves, and what the next run does with it."""
    staged = staged_tasks(tree_from_environment())
    if not staged:
        return ("The observation was interrupted before it staged any task; the next run"
                " starts a new one.")
    return ("The observation was interrupted; the next run within 12 hours resumes it from the"
            f" {staged:,} tasks it staged.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.run",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--date", default=None,
                        help="today (UTC): observe now, as without it; a date with a stored"
                             " observation: reload it from the tree, asking the service"
                             " nothing; any other date is refused")
    parser.add_argument("--full", action="store_true",
                        help="list every task, even where an incremental observation (new and"
                             " unfinished tasks only) would be exact")
    parser.add_argument("--debug", action="store_true", default=settings.DEBUG.read(),
                        help="print the whole error of a failed run")
    args = parser.parse_args(argv)
    try:
        name = job_for_date(args.date, tree_from_environment()) if args.date else JOB
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.debug:
        # Retries and waits are logged as they happen; the failure line sums them up.
        logging.getLogger("mixpeek_tasks").addHandler(logging.NullHandler())
        logging.getLogger("mixpeek_tasks").propagate = False
    what = (f"The reload of {args.date}" if name == RELOAD_JOB else "The observation")
    try:
        outcome = run_job(name, full=args.full)
    except PreflightError as error:
        print(f"{what} failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        outcome = RunOutcome(False, interrupted=True)
    if outcome.succeeded:
        return 0
    if outcome.interrupted:
        print(resume_line(), file=sys.stderr)
        return 130
    # The step's own messages are masked; this is the last line of defence for the rest.
    key = settings.API_KEY.read()
    print(mask(f"{what} failed: {outcome.reason}", key), file=sys.stderr)
    if args.debug and outcome.details:
        print(mask(outcome.details, key), file=sys.stderr)
    elif outcome.details:
        print("(run again with --debug for the whole error)", file=sys.stderr)
    return 1

if __name__ == "__main__":
    sys.exit(main())
