"""The archive keeps every loaded original byte for byte: a copy by default, a hard link to
the inbox file with RSOKO_ARCHIVE_LINKS=1 (no second copy of the tier on disk)."""

from __future__ import annotations

from rsoko_pipelines.ingest.landing import archive_copy
from rsoko_pipelines.settings import Settings

FILE_ID = "0123456789abcdef" + "0" * 48


def _settings(tmp_path, monkeypatch, links: str | None) -> Settings:
    monkeypatch.setenv("RSOKO_DATA_DIR", str(tmp_path / "data"))
    if links is None:
        monkeypatch.delenv("RSOKO_ARCHIVE_LINKS", raising=False)
    else:
        monkeypatch.setenv("RSOKO_ARCHIVE_LINKS", links)
    return Settings.from_env().ensure_dirs()


def _delivered(settings: Settings) -> object:
    path = settings.inbox_dir / "ege" / "2025" / "01_20250610.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xef\xbb\xbf01 rus;line\n" * 100)
    return path


def test_the_archive_copies_by_default(tmp_path, monkeypatch):
    settings = _settings(tmp_path, monkeypatch, None)
    assert not settings.archive_links
    original = _delivered(settings)
    archived = archive_copy(settings, original, "ege", 2025, FILE_ID)
    assert archived == settings.archive_dir / "ege" / "2025" / "0123456789abcdef__01_20250610.csv"
    assert archived.read_bytes() == original.read_bytes()
    assert archived.stat().st_ino != original.stat().st_ino
    assert list(archived.parent.iterdir()) == [archived]          # no .part left


def test_the_archive_links_when_asked(tmp_path, monkeypatch):
    settings = _settings(tmp_path, monkeypatch, "1")
    assert settings.archive_links
    original = _delivered(settings)
    archived = archive_copy(settings, original, "ege", 2025, FILE_ID)
    assert archived.stat().st_ino == original.stat().st_ino and original.stat().st_nlink == 2
    # a sender replacing the file (a new one renamed over it) leaves the archive intact
    replacement = original.with_suffix(".new")
    replacement.write_bytes(b"corrected\n")
    replacement.replace(original)
    assert archived.read_bytes().startswith(b"\xef\xbb\xbf01 rus;line\n")
    # archiving again (the same file id) keeps the first archived bytes
    assert archive_copy(settings, original, "ege", 2025, FILE_ID).read_bytes() != b"corrected\n"
