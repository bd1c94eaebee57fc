"""What the dbt steps of a night do (orchestration/dbt_assets.py wires them).

**Models** (`build_models`): rebuild the build scope (`raw._build_scope`, filled by the release
step; everything with `--full-refresh` when the dbt project changed since the last build),
run the tests, and explain every failing one (quality/dbt_failures.py). A failure in tonight's
new data holds back its source × years: their previous release is restored and their slices
rebuilt from it, quietly, in a second dbt invocation; then the release is committed. A
failure that is not in tonight's new data (a code problem) fails the step before the commit:
nothing is published and the next night tries again.

**Marts** (`build_marts`): every mart, then its tests; a mart whose test fails (and every mart
built from it) keeps its previously published version (`raw._held_marts`, read by publish).

Nothing is yielded until dbt has finished and the step has decided: a failure that must stop
the night (dbt could not build, a test fails outside tonight's new data) is raised before any
output, so the marts and the publication do not run; a held-back source × year or mart is
reported after the outputs (failed checks as errors, explained in their metadata), and the
step fails at the very end, so the rest of the night goes on
(`require_upstream_step_success: false` in the night's executor).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from rsoko_pipelines.ingest import release
from rsoko_pipelines.ingest.warehouse import writer
from rsoko_pipelines.orchestration.dbt_args import dbt_cli_args
from rsoko_pipelines.orchestration.resources import project_fingerprint, warehouse_env
from rsoko_pipelines.quality import dbt_failures
from rsoko_pipelines.settings import Settings

DBT_RUNS_KEPT = 8
PROJECT_KEY = "dbt_project"
REFERENCE_KEY = "reference"
REFERENCE_PROJECT_KEY = "reference_project"   # the project whose seeds were loaded last
PARTIAL_PARSE = "partial_parse.msgpack"          # dbt's parse cache in a target folder
MODELS_SELECT = "path:models/staging path:models/intermediate path:models/core"


def _target(context, settings: Settings, suffix: str = "") -> Path:
    """dbt's per-invocation folder (manifest, run results, logs: ~10 MB) under the data
    folder, never in the repository; only the newest few are kept."""
    runs = settings.data_dir / "dbt_runs"
    _prune(runs, DBT_RUNS_KEPT)
    target = runs / f"{context.op_execution_context.op.name}-{context.run.run_id[:8]}{suffix}"
    _reuse_parse(runs, target)
    return target


def _reuse_parse(runs_dir: Path, target: Path) -> None:
    """dbt's partial parsing across invocations: the newest parse of this deployment's dbt
    runs seeds the new target folder. Otherwise dagster-dbt copies the project's own parse,
    made with another warehouse path in the profile, and dbt reparses the whole project on
    every invocation ("profile has changed": about 10 s, three times a night). dbt itself
    checks that the parse still fits (files, vars, profile, version) and reparses what not."""
    seeded = target / PARTIAL_PARSE
    if seeded.exists():                       # a retry of the same step keeps its own
        return
    parses = [p for p in runs_dir.glob(f"*/{PARTIAL_PARSE}") if p.parent != target]
    if not parses:
        return
    newest = max(parses, key=lambda p: p.stat().st_mtime)
    target.mkdir(parents=True, exist_ok=True)
    partial = seeded.with_name(PARTIAL_PARSE + ".copying")
    shutil.copyfile(newest, partial)
    partial.replace(seeded)


def _prune(runs_dir: Path, keep: int) -> None:
    if not runs_dir.is_dir():
        return
    folders = sorted((p for p in runs_dir.iterdir() if p.is_dir()),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def _run_dbt(context, dbt, args, target) -> tuple[object, list, list]:
    """Run dbt; returns (invocation, events, failed checks). Nothing is yielded yet: the step
    first decides whether its outputs may reach the next steps (a code problem must stop the
    night before the marts, a held-back source must not)."""
    context.log.info(f"dbt {' '.join(args)}  (target: {target})")
    invocation = dbt.cli(args, context=context, target_path=target, raise_on_error=False)
    events, failed_checks = [], []
    for event in invocation.stream():
        if isinstance(event, dg.AssetCheckResult) and not event.passed:
            failed_checks.append(event)
        else:
            events.append(event)
    return invocation, events, failed_checks


def _explained(failed_checks: list, failures: list) -> list:
    """The failed check results as errors, each with its explanation."""
    by_name = {f.name: f for f in failures}
    out = []
    for check in failed_checks:
        failure = by_name.get(check.check_name)
        metadata = dict(check.metadata or {})
        description = check.description
        if failure is not None:
            description = failure.message()[:1000]
            metadata.update({
                "explanation": dg.MetadataValue.md(failure.markdown()),
                "failing_rows": dg.MetadataValue.int(failure.failures),
                "rule": dg.MetadataValue.text(failure.rule),
                "what_to_do": dg.MetadataValue.text(failure.hint),
                "held_back": dg.MetadataValue.text(
                    ", ".join(f"{s} {y}" for s, y in failure.held)
                    or ("— (a finding: nothing is held back)" if failure.finding else "—")),
            })
            if failure.audit_table:
                metadata["failing_rows_table"] = dg.MetadataValue.text(failure.audit_table)
        finding = failure is not None and failure.finding
        out.append(dg.AssetCheckResult(
            asset_key=check.asset_key, check_name=check.check_name, passed=False,
            severity=dg.AssetCheckSeverity.WARN if finding else dg.AssetCheckSeverity.ERROR,
            metadata=metadata,
            description=description or "the dbt test failed"))
    return out


def _candidates(con) -> set[tuple[str, int]]:
    return {tuple(r) for r in con.execute(
        "SELECT DISTINCT source, academic_year FROM raw._release_undo").fetchall()}


def _build_state(con, key: str) -> str | None:
    row = con.execute("SELECT value FROM raw._build_state WHERE key = ?", [key]).fetchall()
    return row[0][0] if row else None


# --------------------------------------------------------------------------- models
def build_models(context, dbt, force_full: bool = False):
    settings = Settings.from_env().ensure_dirs()
    warehouse_env()
    fingerprint = project_fingerprint()
    with writer(settings.warehouse_path) as con:
        release.ensure_state(con)
        reference = _build_state(con, REFERENCE_KEY)
        reference_project = _build_state(con, REFERENCE_PROJECT_KEY)
        if reference and reference != "ok":
            raise dg.Failure(description="The reference data did not load tonight "
                             f"({reference}); the models are not rebuilt on it.",
                             allow_retries=False)
        full = force_full or _build_state(con, PROJECT_KEY) != fingerprint
        if full:
            release.add_to_scope(con, [release.ALL_SLICES], "the dbt project changed")
        scope, candidates = release.scope(con), _candidates(con)
    if not scope:
        # still run the models (every slice stays as it is: the incremental models delete
        # and append nothing) so that the marts and the publication follow: the data status
        # and the manifest must show what tonight's quarantined or duplicate files changed,
        # and only the publication tags the night complete (Dagster skips every step after
        # one that yields nothing)
        context.log.info("No build slice in scope: the models run without rebuilding a slice")
    else:
        context.log.info(f"Rebuilding {'every slice' if full else f'{len(scope)} slice(s)'}"
                         + (" with --full-refresh" if full else ""))
    if full and reference_project != fingerprint:
        _reload_seeds(context, dbt, settings)
    # `buildable`: a test that also reads a mart runs in the marts step
    args = dbt_cli_args("build", full_refresh=full, indirect_selection="buildable")
    invocation, events, failed_checks = _run_dbt(context, dbt, args, _target(context, settings))
    run_results = invocation.get_artifact("run_results.json")
    manifest = invocation.get_artifact("manifest.json")
    errors = dbt_failures.errored_models(run_results)
    with writer(settings.warehouse_path) as con:
        failures = [dbt_failures.explain(con, node, result, manifest, candidates)
                    for node, result in dbt_failures.failing_tests(run_results, manifest)]
    checks = _explained(failed_checks, failures)
    # no output is yielded before this point: a failure here stops the rest of the night
    if errors:
        _log_failures(context, checks)
        hint = dbt_failures.resource_hint(run_results, settings.warehouse_path.parent)
        raise dg.Failure(description="dbt could not build: " + ", ".join(errors)
                         + ". Nothing was published; see the dbt log of this step."
                         + (f" {hint}" if hint else ""), allow_retries=True)
    unexplained = [f for f in failures if not f.held and not f.finding]
    if unexplained:
        _log_failures(context, checks)
        raise dg.Failure(
            description="A dbt test fails outside tonight's new data (a problem of the models, "
                        "not of an extract); nothing was published: "
                        + " | ".join(f.message() for f in unexplained[:3]),
            allow_retries=False)
    held = {pair: why for f in failures for pair, why in f.held.items()}
    if held:
        _rebuild_previous(context, dbt, settings, held)
    yield from events
    yield from checks
    with writer(settings.warehouse_path) as con:
        removed = release.commit(con)
        con.execute("INSERT OR REPLACE INTO raw._build_state (key, value, updated_at) "
                    "VALUES (?, ?, current_timestamp)", [PROJECT_KEY, fingerprint])
    context.log.info(f"Release committed; {removed:,} replaced landing row(s) removed.")
    if held:
        raise dg.Failure(
            description="Held back after a failing test (their last good data is kept, the "
                        "rest is published): " + "; ".join(
                            f"{s} {y}" for s, y in sorted(held)) + ". "
                        + next(f for f in failures if not f.finding).message(),
                        allow_retries=False)


def _reload_seeds(context, dbt, settings) -> None:
    """The project changed: its reference data may have too (a new or corrected seed). Load
    the seeds before the models, whether or not tonight's run selected the reference step
    (an operator may materialise the models alone after a deploy)."""
    context.log.info("The dbt project changed since the last build: reloading the seeds first")
    invocation = dbt.cli(dbt_cli_args("seed"), target_path=_target(context, settings, "-seed"),
                         manifest=_manifest_path(), raise_on_error=False)
    invocation.wait()
    errors = dbt_failures.errored_models(invocation.get_artifact("run_results.json"))
    if errors:
        raise dg.Failure(description="The reference seeds did not load: " + ", ".join(errors)
                         + "; the models were not rebuilt.", allow_retries=False)
    with writer(settings.warehouse_path) as con:
        con.execute("INSERT OR REPLACE INTO raw._build_state (key, value, updated_at) "
                    "VALUES (?, ?, current_timestamp)",
                    [REFERENCE_PROJECT_KEY, project_fingerprint()])


def _log_failures(context, checks) -> None:
    """The step fails before its outputs: the explanations go to the log (and the failure)."""
    for check in checks:
        context.log.error(f"{check.asset_key.to_user_string()} › {check.check_name}: "
                          f"{check.description}")


def _rebuild_previous(context, dbt, settings, held) -> None:
    """Restore the previous release of the held-back source × years and rebuild their
    slices from it (a quiet second dbt invocation: the checks were reported already)."""
    with writer(settings.warehouse_path) as con:
        slices = release.revert(con, held)
    context.log.warning(f"Held back {', '.join(f'{s} {y}' for s, y in sorted(held))}: "
                        f"rebuilding {len(slices)} slice(s) from their previous release")
    target = _target(context, settings, "-previous")
    invocation = dbt.cli(dbt_cli_args("build", select=MODELS_SELECT,
                                      indirect_selection="buildable"), target_path=target,
                         manifest=_manifest_path(), raise_on_error=False)
    invocation.wait()
    run_results = invocation.get_artifact("run_results.json")
    manifest = invocation.get_artifact("manifest.json")
    still = [(node, result) for node, result in dbt_failures.failing_tests(run_results, manifest)
             if not dbt_failures.is_finding(node)]
    errors = dbt_failures.errored_models(run_results)
    if errors or still:
        names = errors + [node["name"] for node, _ in still]
        raise dg.Failure(description="The last good data fails too after holding back "
                                     f"{sorted(held)}: {', '.join(names[:5])} — a problem of "
                                     "the models; nothing was published.", allow_retries=False)


def _manifest_path():
    from rsoko_pipelines.orchestration.resources import dbt_project

    return dbt_project().manifest_path


# --------------------------------------------------------------------------- marts
def build_marts(context, dbt):
    settings = Settings.from_env().ensure_dirs()
    warehouse_env()
    invocation, events, failed_checks = _run_dbt(context, dbt, dbt_cli_args("build"),
                                                 _target(context, settings))
    run_results = invocation.get_artifact("run_results.json")
    manifest = invocation.get_artifact("manifest.json")
    errors = dbt_failures.errored_models(run_results)
    with writer(settings.warehouse_path) as con:
        release.ensure_state(con)
        failures = [dbt_failures.explain(con, node, result, manifest, set())
                    for node, result in dbt_failures.failing_tests(run_results, manifest)]
        held = held_marts(failures, manifest)
        con.execute("DELETE FROM raw._held_marts")
        for mart, why in held.items():
            con.execute("INSERT INTO raw._held_marts (mart, reason) VALUES (?, ?)", [mart, why])
    checks = _explained(failed_checks, failures)
    if errors:   # before any output: nothing is published
        _log_failures(context, checks)
        hint = dbt_failures.resource_hint(run_results, settings.warehouse_path.parent)
        raise dg.Failure(description="dbt could not build the marts: " + ", ".join(errors)
                         + ". The published version is kept." + (f" {hint}" if hint else ""),
                         allow_retries=True)
    yield from events
    yield from checks
    if held:
        raise dg.Failure(description="Marts kept at their previous published version after a "
                                     "failing test: " + ", ".join(sorted(held)) + ". "
                                     + next(f for f in failures if not f.finding).message(),
                        allow_retries=False)


def held_marts(failures, manifest: dict) -> dict[str, str]:
    """{mart: why}: the marts of the failing tests and every mart built from them."""
    nodes = manifest.get("nodes", {})
    children = manifest.get("child_map", {})
    held: dict[str, str] = {}
    for failure in failures:
        if failure.finding:
            continue
        node = nodes.get(failure.unique_id, {})
        todo = [node.get("attached_node")] if node.get("attached_node") else [
            n for n in node.get("depends_on", {}).get("nodes", []) if n.startswith("model.")]
        while todo:
            uid = todo.pop()
            model = nodes.get(uid or "", {})
            if model.get("resource_type") != "model" or model.get("schema") != "marts":
                continue
            if model["name"] not in held:
                held[model["name"]] = failure.message()[:500]
                todo.extend(c for c in children.get(uid, []) if c.startswith("model."))
    return held


# --------------------------------------------------------------------------- reference
def build_reference(context, dbt):
    settings = Settings.from_env().ensure_dirs()
    warehouse_env()
    args = dbt_cli_args("build", indirect_selection="cautious")
    invocation, events, failed_checks = _run_dbt(context, dbt, args, _target(context, settings))
    run_results = invocation.get_artifact("run_results.json")
    errors = dbt_failures.errored_models(run_results)
    manifest = invocation.get_artifact("manifest.json")
    with writer(settings.warehouse_path) as con:
        release.ensure_state(con)
        failures = [dbt_failures.explain(con, node, result, manifest, set())
                    for node, result in dbt_failures.failing_tests(run_results, manifest)]
        problem = ", ".join(errors + [f.message() for f in failures if not f.finding][:3])
        con.execute("INSERT OR REPLACE INTO raw._build_state (key, value, updated_at) "
                    "VALUES (?, ?, current_timestamp)", [REFERENCE_KEY, problem[:500] or "ok"])
        if not problem:
            con.execute("INSERT OR REPLACE INTO raw._build_state (key, value, updated_at) "
                        "VALUES (?, ?, current_timestamp)",
                        [REFERENCE_PROJECT_KEY, project_fingerprint()])
    checks = _explained(failed_checks, failures)
    if problem:   # before any output: the models are not rebuilt on broken reference data
        _log_failures(context, checks)
        raise dg.Failure(description="The reference data did not load: " + problem,
                         allow_retries=False)
    yield from events
    yield from checks
