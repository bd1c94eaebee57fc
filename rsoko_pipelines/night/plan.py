"""What tonight has to do. Shared by `rsoko nightly`, the 02:00 schedule and the inbox sensor,
so all three run exactly the same night.

The state lives in the Dagster instance, not in the warehouse (a running load may hold the
warehouse's lock):
- every landing step records the fingerprint of its inbox folders *after* its ingest (names,
  sizes, mtimes per academic year; a quarantined file has left the folder by then): a source
  is *changed* when its folders differ from that record;
- every publication records the dbt project's fingerprint: a deploy that changes the models
  or the reference data is a change too (the models step then rebuilds everything);
- the night's last step tags its run complete (`rsoko/complete`): a night that crashed, or
  whose models failed, is *retried*.
A quiet inbox with nothing to retry plans nothing: no run, no new publication.

The plan selects the landing steps of the changed sources (and the reference seeds when the
project changed) and everything after the landing; the later steps decide from the
warehouse what they have to rebuild (ingest/release.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import dagster as dg

from rsoko_pipelines import inbox
from rsoko_pipelines.orchestration.names import (COMPLETE_TAG, INBOX_FINGERPRINT_KEY,
                                                 NIGHTLY_JOB, PLAN_TAG, STATE_KEY, TRIGGER_TAG)
from rsoko_pipelines.settings import SOURCES, Settings

IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
             dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.CANCELED]
PUBLISHED_KEY = dg.AssetKey(["published", "marts"])


@dataclass
class NightPlan:
    sources: dict[str, dict[str, str]] = field(default_factory=dict)  # changed: {year: fp}
    changed_years: dict[str, list[str]] = field(default_factory=dict)  # source: years changed
    project_changed: bool = False      # the dbt project differs from the last publication's
    retry: str | None = None           # the last night did not complete: why
    in_flight: list[str] = field(default_factory=list)   # ids of nights in progress

    @property
    def empty(self) -> bool:
        return not (self.sources or self.project_changed or self.retry)

    @property
    def key(self) -> str:
        """The same work gives the same key (the sensor requests a key only once: a night
        that keeps failing is retried once by the sensor, then by the schedule or by hand)."""
        text = json.dumps([self.sources, self.project_changed, bool(self.retry)],
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def describe(self) -> str:
        if self.in_flight:
            return f"a night is already running ({', '.join(r[:8] for r in self.in_flight)})"
        if self.empty:
            return "nothing new in the inbox"
        parts = []
        if self.sources:
            parts.append("new or changed files: " + ", ".join(
                f"{s} ({', '.join(self.changed_years.get(s) or sorted(fp))})"
                for s, fp in sorted(self.sources.items())))
        if self.project_changed:
            parts.append("the models or the reference data changed: reference data reloaded, "
                         "every model rebuilt")
        if self.retry:
            parts.append(self.retry)
        return "; ".join(parts)

    def asset_selection(self) -> dg.AssetSelection:
        from rsoko_pipelines.orchestration.jobs import AFTER_LANDING
        from rsoko_pipelines.orchestration.names import GROUP_REFERENCE
        from rsoko_pipelines.orchestration.raw_assets import raw_key

        selection = AFTER_LANDING
        if self.sources:
            selection = selection | dg.AssetSelection.assets(
                *[raw_key(s) for s in sorted(self.sources)])
        if self.project_changed:
            selection = selection | dg.AssetSelection.groups(GROUP_REFERENCE)
        return selection

    def tags(self, trigger: str) -> dict[str, str]:
        return {TRIGGER_TAG: trigger, PLAN_TAG: self.key}

    def run_request(self, trigger: str, run_key: str, asset_graph) -> dg.RunRequest:
        """The request of the sensor or the schedule. A RunRequest takes asset keys, not a
        selection: it is resolved against the code location's asset graph."""
        keys = sorted(self.asset_selection().resolve(asset_graph))
        return dg.RunRequest(run_key=run_key, asset_selection=keys, tags=self.tags(trigger))


def _recorded_inbox(instance, source: str) -> dict:
    from rsoko_pipelines.orchestration.raw_assets import fingerprints_json

    event = instance.get_latest_materialization_event(dg.AssetKey(["raw", source]))
    value = (event.asset_materialization.metadata.get(INBOX_FINGERPRINT_KEY)
             if event is not None and event.asset_materialization else None)
    return fingerprints_json(value) if value is not None else {}


def _published_state(instance) -> dict:
    event = instance.get_latest_materialization_event(PUBLISHED_KEY)
    value = (event.asset_materialization.metadata.get(STATE_KEY)
             if event is not None and event.asset_materialization else None)
    data = getattr(value, "data", None)
    return dict(data) if isinstance(data, dict) else {}


def _dismissed_since_release(instance) -> str | None:
    """An operator dismissed a quarantined file (`rsoko quarantine dismiss`) after the last
    release: the release must run again, though the inbox did not change."""
    key = dg.AssetKey(["raw", "file_registry"])
    records = instance.fetch_observations(key, limit=1).records
    observed = records[0].event_log_entry if records else None
    materialized = instance.get_latest_materialization_event(key)
    if observed is None or (materialized is not None
                            and materialized.timestamp >= observed.timestamp):
        return None
    return "retry: a quarantined file was dismissed by an operator"


def _unfinished_night(instance) -> str | None:
    """The latest finished night, when it did not reach its last step."""
    records = instance.get_run_records(dg.RunsFilter(job_name=NIGHTLY_JOB, statuses=FINISHED),
                                       limit=1)
    if not records:
        return None
    run = records[0].dagster_run
    if run.tags.get(COMPLETE_TAG):
        return None
    return f"retry: the night {run.run_id[:8]} ({run.status.value.lower()}) did not complete"


def plan_night(instance: dg.DagsterInstance, settings: Settings | None = None) -> NightPlan:
    from rsoko_pipelines.orchestration.resources import project_fingerprint

    settings = settings or Settings.from_env()
    plan = NightPlan(in_flight=list(instance.get_run_ids(
        dg.RunsFilter(job_name=NIGHTLY_JOB, statuses=IN_FLIGHT))))
    if plan.in_flight:
        return plan
    for source in SOURCES:
        current = inbox.source_fingerprints(settings.inbox_dir, source)
        recorded = _recorded_inbox(instance, source)
        if current and current != recorded:
            plan.sources[source] = current
            plan.changed_years[source] = sorted(y for y, fp in current.items()
                                                if recorded.get(y) != fp)
    state = _published_state(instance)
    has_data = bool(plan.sources) or bool(state)
    plan.project_changed = has_data and state.get("dbt_project") != project_fingerprint()
    plan.retry = _unfinished_night(instance) or _dismissed_since_release(instance)
    return plan
