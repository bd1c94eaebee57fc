"""Pseudonymisation key handling and normalisation; landing schema metadata."""

from __future__ import annotations

import hashlib
import hmac
import stat

import pyarrow as pa

from rsoko_pipelines.extract import Pseudonymizer, describe_table, landing_schemas
from rsoko_pipelines.extract.pseudonym import ENV_VAR, normalize_document
from rsoko_pipelines.extract.schemas import source_spec


def test_generated_key_is_private_and_stable(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    first = Pseudonymizer.from_env(tmp_path / "secrets")
    key_file = tmp_path / "secrets" / "pseudonym.key"
    assert first.origin == "generated" and key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = Pseudonymizer.from_env(tmp_path / "secrets")
    assert second.origin == "file"
    assert first.participant_key("4512", "654321") == second.participant_key("4512", "654321")
    assert key_file.read_text().strip() not in repr(first)


def test_env_key_wins_and_matches_plain_hmac(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "ab" * 32)
    p = Pseudonymizer.from_env(tmp_path)
    assert p.origin == "env" and not (tmp_path / "pseudonym.key").exists()
    expected = hmac.new(bytes.fromhex("ab" * 32), b"4512654321", hashlib.sha256).hexdigest()
    assert p.participant_key("45 12", "654321") == expected
    monkeypatch.setenv(ENV_VAR, "a text key")
    assert Pseudonymizer.from_env(tmp_path).participant_key("1", "2") == hmac.new(
        b"a text key", b"12", hashlib.sha256).hexdigest()


def test_normalisation_folds_lookalikes_spaces_case():
    assert normalize_document("IV-АБ", " 123 456 ") == "IVAБ123456"
    p = Pseudonymizer(b"k" * 32)
    # Cyrillic А/Е/К/... typed instead of Latin, lower case, spaces: the same key
    assert p.participant_key("iv-ab", "123456") == p.participant_key("IV AB", "123 456")
    assert p.participant_key("IV-АВ", "123456") == p.participant_key("IV-AB", "123456")
    assert p.participant_key("", None) is None
    keys = p.participant_keys(pa.array(["4512", None, "ва"]), pa.array(["654321", None, "1"]))
    assert keys.to_pylist() == [p.participant_key("4512", "654321"), None,
                                p.participant_key("BA", "1")]


def test_landing_schemas_and_docs_have_no_personal_columns():
    schemas = landing_schemas()
    assert {"schools", "ege", "oge", "vpr", "vpr_tasks", "rpr", "rpr_tasks", "olympiad",
            "literacy"} <= set(schemas)
    for name, schema in schemas.items():
        assert schema.names[:3] == ["_file_id", "_source_line", "academic_year"], name
        assert not {"last_name", "first_name", "middle_name", "doc_series",
                    "doc_number"} & set(schema.names)
        table_doc, column_docs = describe_table(name)
        assert table_doc and set(column_docs) == set(schema.names)
    assert schemas["vpr"].field("task_scores").type == pa.list_(pa.string())
    assert {c.name for c in source_spec("ege").personal_columns} == {
        "last_name", "first_name", "middle_name", "doc_series", "doc_number"}
