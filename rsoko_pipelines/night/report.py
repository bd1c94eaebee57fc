"""The record of one `rsoko nightly`: what was planned, the run with its steps and their
durations grouped into the stages operators and the benchmark talk about (reference, ingest,
validate, release, transform, marts, publish), what is held back and the failing checks.
Written as JSON to `<reports>/nightly/<time>.json` and `latest.json`."""

from __future__ import annotations

import json
import resource
import time
from dataclasses import asdict, dataclass, field

from dagster import DagsterEventType, DagsterRunStatus

STAGE_OF_STEP = (   # step key prefix → stage
    ("raw__file_registry", "release"),
    ("raw__", "ingest"),
    ("rsoko_dbt_reference", "reference"),
    ("rsoko_dbt_models", "transform"),
    ("rsoko_dbt_marts", "marts"),
    ("published__", "publish"),
)
STAGES = ("reference", "ingest", "validate", "release", "transform", "marts", "publish")


def stage_of(step_key: str) -> str:
    return next((stage for prefix, stage in STAGE_OF_STEP if step_key.startswith(prefix)),
                "other")


@dataclass
class NightReport:
    plan: str
    started_at: float = field(default_factory=time.time)
    seconds: float = 0.0
    runs: list[dict] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    failed_checks: list[dict] = field(default_factory=list)   # asset, check, severity, text
    held_back: list[dict] = field(default_factory=list)       # from the published data_status

    def add_run(self, instance, run) -> None:
        steps = []
        for stat in instance.get_run_step_stats(run.run_id):
            if stat.start_time is None or stat.end_time is None:
                continue
            seconds = stat.end_time - stat.start_time
            stage = stage_of(stat.step_key)
            self.stages[stage] = self.stages.get(stage, 0.0) + seconds
            steps.append({"step": stat.step_key, "stage": stage, "seconds": round(seconds, 2),
                          "status": str(stat.status.value if stat.status else None)})
        # validation happens inside the raw steps: move its share from ingest to validate
        for record in instance.get_records_for_run(
                run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records:
            materialization = record.event_log_entry.asset_materialization
            value = materialization.metadata.get("validate_seconds") if materialization else None
            if value is not None:
                self.stages["validate"] += float(value.value)
                self.stages["ingest"] -= float(value.value)
        for record in instance.get_records_for_run(
                run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records:
            evaluation = record.event_log_entry.dagster_event.event_specific_data
            if evaluation is None or evaluation.passed:
                continue
            self.failed_checks.append({
                "asset": evaluation.asset_key.to_user_string(), "check": evaluation.check_name,
                "severity": evaluation.severity.value,
                "text": evaluation.description or "(the check failed; see its metadata)"})
        self.runs.append({"run_id": run.run_id, "job": run.job_name,
                          "status": run.status.value, "tags": dict(run.tags),
                          "success": run.status == DagsterRunStatus.SUCCESS, "steps": steps})

    @property
    def materialized(self) -> int:
        return sum(len(r["steps"]) for r in self.runs)

    def write(self, settings) -> None:
        folder = settings.reports_dir / "nightly"
        folder.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        data["stages"] = {k: round(v, 2) for k, v in self.stages.items()}
        data["peak_rss_mb"] = {
            "self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024}
        text = json.dumps(data, ensure_ascii=False, indent=2)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self.started_at))
        (folder / f"{stamp}.json").write_text(text, encoding="utf-8")
        (folder / "latest.json").write_text(text, encoding="utf-8")
