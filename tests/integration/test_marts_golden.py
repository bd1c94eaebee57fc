"""The published marts of tier XS against their golden fingerprints (tests/golden/): a
refactoring or a speed change must leave every mart exactly as it was; a deliberate change
names the columns it moves (see tests/integration/_golden.py for how to update)."""

from __future__ import annotations

import json
import os

from rsoko_pipelines.publish.versions import published_database
from tests.integration import _golden as golden
from tests.integration import _nightly as n


def test_published_marts_of_tier_xs_equal_their_golden_fingerprints(tmp_path_factory):
    reference = n.reference_night(tmp_path_factory)
    database = published_database(n.settings_for(reference.data).published_dir)
    actual = golden.fingerprint(database)
    if os.environ.get("RSOKO_GOLDEN_UPDATE") == "1":
        golden.write(golden.GOLDEN_XS, actual)
    expected = json.loads(golden.GOLDEN_XS.read_text(encoding="utf-8"))
    assert golden.differences(expected, actual) == []
