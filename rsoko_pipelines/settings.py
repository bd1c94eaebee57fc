"""Where things live. Every path comes from an environment variable with a default under
the git-ignored ``var/`` folder of the repository, so a run never writes into git.

Nothing here touches the disk at import time; call :func:`ensure_dirs` when a command
needs the folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"

# Every source of the input contract (../shared/domain/extracts.md) that rsoko loads, in
# load order (the registry of schools first: results are checked against it), and the
# system each comes from. A source with a column map here gets its inbox and landing assets.
SOURCE_SYSTEMS = {
    "schools": "Региональный реестр ОО / regional school registry",
    "ege": "РИС ГИА: ведомости ЕГЭ / regional exam system, ЕГЭ result sheets",
    "oge": "РИС ГИА: ведомости ОГЭ и ГВЭ / regional exam system, ОГЭ and ГВЭ result sheets",
    "vpr": "ФИС ОКО: индивидуальные результаты ВПР / federal system, ВПР results",
    "rpr": "ФИС ОКО (региональные работы): РПР / regional check works",
    "olympiad": "Региональная система ВсОШ / olympiad system",
    "literacy": "Региональная оценка функциональной грамотности / literacy assessment",
    # directions 6 and 7 (issue 17)
    "staff": "Кадровая система: реестр педработников / personnel system, staff register",
    "dpo": "ФИС ФРДО (выгрузки провайдеров ДПО) / ДПО documents from the providers",
    "deficits": "Платформа диагностики ЦНППМ: профессиональные дефициты / deficit diagnostics",
    "nokuod": "Оператор НОКУОД: независимая оценка качества условий / НОКУОД results",
    # the management cycle (issue 19)
    "measures": "Реестр мер управления качеством (приказы, планы) / register of management measures",
    # directions 4 and 9, НИКО and surveys (issue 18)
    "niko": "ФИС ОКО: индивидуальные результаты НИКО (выборка) / federal system, НИКО sample study results",
    "population": "Росстат: численность детей по возрасту и МСУ / Rosstat, children by age and municipality",
    "career": "Профориентация и профильное обучение по ОО / career guidance and profile classes per school",
    "survey": "Региональная платформа анкетирования / regional survey platform",
    "graduates": "МСУ: продолжение образования выпускников 9 и 11 классов / municipalities, graduate destinations",
    "additional_ed": "Навигатор дополнительного образования детей / regional additional-education navigator",
}
SOURCES = tuple(SOURCE_SYSTEMS)


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    """Resolved locations of one deployment (read once per command, not at import)."""

    data_dir: Path
    inbox_dir: Path
    archive_dir: Path
    quarantine_dir: Path
    warehouse_path: Path
    published_dir: Path
    reports_dir: Path
    dagster_home: Path
    secrets_dir: Path
    # RSOKO_ARCHIVE_LINKS=1: archive an original as a hard link to the inbox file (same
    # filesystem only, else a copy). Saves the archive's disk (22 GB a night at tier F); safe
    # only when senders replace files (write, then rename), never rewrite them in place.
    archive_links: bool = False

    @classmethod
    def from_env(cls) -> "Settings":
        data = _path("RSOKO_DATA_DIR", REPO_ROOT / "var")
        return cls(
            data_dir=data,
            inbox_dir=_path("RSOKO_INBOX_DIR", data / "inbox"),
            archive_dir=_path("RSOKO_ARCHIVE_DIR", data / "archive"),
            quarantine_dir=_path("RSOKO_QUARANTINE_DIR", data / "quarantine"),
            warehouse_path=_path("RSOKO_WAREHOUSE", data / "warehouse" / "rsoko.duckdb"),
            published_dir=_path("RSOKO_PUBLISHED_DIR", data / "published"),
            reports_dir=_path("RSOKO_REPORTS_DIR", data / "reports"),
            dagster_home=_path("DAGSTER_HOME", data / "dagster_home"),
            secrets_dir=_path("RSOKO_SECRETS_DIR", data / "secrets"),
            archive_links=os.environ.get("RSOKO_ARCHIVE_LINKS", "") == "1",
        )

    def ensure_dirs(self) -> "Settings":
        for path in (
            self.inbox_dir,
            self.archive_dir,
            self.quarantine_dir,
            self.warehouse_path.parent,
            self.published_dir,
            self.reports_dir,
            self.dagster_home,
            self.secrets_dir,
        ):
            path.mkdir(parents=True, exist_ok=True)
        return self
