"""The second half of the sources removed in turn (test_real_regions.py has the first half
and the checks): a file of its own, so that pytest-xdist (--dist loadfile) runs the two
halves on different workers."""

from __future__ import annotations

import pytest

from rsoko_pipelines.settings import SOURCES
from tests.integration import _nightly as n
from tests.integration.test_real_regions import FIRST_HALF, check_source_removed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return n.reference_night(tmp_path_factory)


@pytest.mark.parametrize("source", [s for s in SOURCES if s not in FIRST_HALF])
def test_each_source_removed_in_turn(reference, tmp_path, source):
    check_source_removed(reference, tmp_path, source)
