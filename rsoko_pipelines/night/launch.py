"""Running a night by hand (`rsoko nightly`) as a real run of the code location.

The run is created with the same origins a run launched from the UI or by the daemon has
(the code location `rsoko` of workspace.yaml, the job `nightly`), so it shows in the job's
Runs tab and on the timeline and can be re-executed from the UI, "From failure" included.
It is then executed in this process, step after step, so that the operator sees its progress
in the terminal and a Ctrl-C (or a kill) stops the whole night. A run whose process died
(killed, machine crash) would keep its warehouse slot forever: the next `rsoko nightly`
marks it failed and frees the slot (:func:`release_dead_runs`).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import dagster as dg

from rsoko_pipelines.orchestration.names import HOST_TAG, NIGHTLY_JOB, PID_TAG
from rsoko_pipelines.settings import REPO_ROOT

WORKSPACE_FILE = REPO_ROOT / "workspace.yaml"
DEFINITIONS_MODULE, DEFINITIONS_ATTRIBUTE = "rsoko_pipelines.definitions", "defs"
REPOSITORY_NAME = "__repository__"   # the repository of a Definitions object
# progress on the console: our INFO lines, not Dagster's DEBUG step events (all of them are
# in the run's event log, in the UI)
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def _remote_origin(job_name: str):
    """The origin the webserver and the daemon give this job (workspace.yaml)."""
    from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    [location] = WorkspaceFileTarget(paths=[str(WORKSPACE_FILE)]).create_origins()
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, REPOSITORY_NAME), job_name)


def own_tags(run_id: str) -> dict[str, str]:
    """Who runs it: this process. The run id is part of the value, because a re-execution
    from the UI copies its parent's tags but runs in another process."""
    return {PID_TAG: f"{os.getpid()}:{run_id}", HOST_TAG: socket.gethostname()}


def run_job(instance: dg.DagsterInstance, job_name: str, asset_selection, tags: dict,
            on_event: Callable | None = None) -> dg.DagsterRun:
    """Create the run (with its origins) and execute it here; returns the finished run."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.execution.api import execute_run_iterator

    repository = ReconstructableRepository.for_module(
        DEFINITIONS_MODULE, DEFINITIONS_ATTRIBUTE, working_directory=str(REPO_ROOT))
    job = repository.get_reconstructable_job(job_name)
    keys = None
    if asset_selection is not None:
        graph = job.get_definition().asset_layer.asset_graph
        keys = frozenset(asset_selection.resolve(graph))
        job = job.get_subset(asset_selection=keys)
    from dagster._core.utils import make_new_run_id

    run_id = make_new_run_id()
    run = instance.create_run_for_job(
        job_def=job.get_definition(), run_id=run_id, run_config=QUIET_CONSOLE,
        tags={**tags, **own_tags(run_id)}, asset_selection=keys,
        remote_job_origin=_remote_origin(job_name), job_code_origin=job.get_python_origin())
    for event in execute_run_iterator(job, run, instance):
        if on_event is not None:
            on_event(event)
    return instance.get_run_by_id(run.run_id)


def run_night(instance: dg.DagsterInstance, plan, trigger: str = "manual",
              on_event: Callable | None = None) -> dg.DagsterRun:
    return run_job(instance, NIGHTLY_JOB, plan.asset_selection(), plan.tags(trigger), on_event)


def release_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs of `rsoko nightly` whose process died stay STARTED and keep their warehouse slot
    forever, blocking every later run. Mark them failed and free their slots — only runs
    started on this host by a process that no longer exists; a live run is left alone."""
    released = []
    runs = instance.get_runs(filters=dg.RunsFilter(
        statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]))
    for run in runs:
        owner, host = run.tags.get(PID_TAG, ""), run.tags.get(HOST_TAG)
        pid, _, owned_run = owner.partition(":")
        if (not pid.isdigit() or owned_run != run.run_id or host != socket.gethostname()
                or _alive(int(pid))):
            continue
        instance.report_run_failed(run, f"process {pid} is gone (killed or crashed)")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
