"""Great Expectations, made quiet and fast for our use: no usage statistics, no progress bars,
no md5 of every batch. Called once per process before the first suite is built (suites.py)
or run (validate.py)."""

from __future__ import annotations

import os

_configured = False


def configure_gx_environment() -> None:
    """No usage statistics, no progress bars on stderr; idempotent."""
    global _configured
    if _configured:
        return
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import logging

    for name in ("great_expectations", "great_expectations.core", "great_expectations.expectations"):
        logging.getLogger(name).setLevel(logging.ERROR)
    _cheap_batch_fingerprint()
    _configured = True


def _cheap_batch_fingerprint() -> None:
    """GX stamps every pandas batch with an md5 of the whole frame (``batch_markers.
    pandas_data_fingerprint``), computed on *each* ``get_batch`` — twice per ``validate`` —
    and through ``pickle`` when a column holds lists (``task_scores``). On a 650k-row ВПР
    frame that was >90 % of the validation time. The marker is informational only (nothing
    in an ephemeral context reads it back), so we replace it with a constant-time fingerprint
    of the frame's identity and shape. Verified against GX 1.24.1 (pinned); if the hook
    disappears in a later GX, validation still works, only slower."""
    try:
        from great_expectations.execution_engine import pandas_execution_engine as pee
    except ImportError:  # pragma: no cover
        return
    if getattr(pee.hash_pandas_dataframe, "_rsoko_cheap", False):
        return

    def hash_pandas_dataframe(df) -> str:
        import hashlib

        key = f"{id(df)}:{df.shape}:{list(map(str, df.columns))}"
        return hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()

    hash_pandas_dataframe._rsoko_cheap = True  # type: ignore[attr-defined]
    pee.hash_pandas_dataframe = hash_pandas_dataframe


