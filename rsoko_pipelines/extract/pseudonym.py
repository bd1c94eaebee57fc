"""Pseudonymisation: keyed hashes of personal identifiers (ГИА participants, staff, …).

Generic form (``keyed_hashes``): hex HMAC-SHA256(key, ``<domain>:`` + normalised value); each
kind of identity has its own domain prefix (``staff`` for СНИЛС), so equal strings of two
kinds never share a key. The column maps declare it (``derived: pseudonym``, ``from``,
``normalize``, ``domain``; see extract/personal.py). ГИА participants keep the historical
form without a prefix (domain ``''``), so their keys are unchanged:

``participant_key`` = hex HMAC-SHA256(key, normalise(series) + normalise(number)), where
normalise removes all whitespace and dashes, upper-cases, turns Ё into Е and folds the
Cyrillic letters that look like Latin ones (А В Е К М Н О Р С Т У Х) into Latin, so the same
document typed in different systems yields the same key. Series and number are concatenated
without a separator on purpose: some systems put the whole series+number into one field.

The key comes from env ``RSOKO_PSEUDONYM_KEY`` or ``<secrets_dir>/pseudonym.key`` (hex of at
least 32 hex digits is used as bytes, anything else as UTF-8 text). On first use without
either, a random demo key is generated into that file (mode 0600; ``var/`` is git-ignored).
The key never appears in logs, reprs or errors.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

import pyarrow as pa

ENV_VAR = "RSOKO_PSEUDONYM_KEY"
KEY_FILE = "pseudonym.key"

_LOOKALIKES = str.maketrans({
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O",
    "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X",
})
_DROP = re.compile(r"[\s\-\u2010-\u2015\u2212_]+")
_HEX = re.compile(r"^(?:[0-9a-fA-F]{2}){16,}$")


def normalize_document(series: str | None, number: str | None) -> str:
    text = f"{series or ''}{number or ''}"
    return _DROP.sub("", text).upper().translate(_LOOKALIKES)


def _key_bytes(text: str) -> bytes:
    text = text.strip()
    if not text:
        raise ValueError("empty pseudonymisation key")
    return bytes.fromhex(text) if _HEX.match(text) else text.encode("utf-8")


class Pseudonymizer:
    """Keyed hashing of document series+number. Build it once per run (``from_env``)."""

    def __init__(self, key: bytes, origin: str = "explicit") -> None:
        if not key:
            raise ValueError("empty pseudonymisation key")
        self._key = key
        self._base = hmac.new(key, digestmod=hashlib.sha256)
        self.origin = origin          # 'env', 'file', 'generated' or 'explicit'

    def __repr__(self) -> str:       # never show the key
        return f"Pseudonymizer(origin={self.origin!r})"

    # Picklable for the parser processes of ingest (an HMAC object is not): the key goes to
    # our own child processes through a pipe, never to a file or a log.
    def __getstate__(self) -> dict:
        return {"key": self._key, "origin": self.origin}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["key"], state["origin"])

    @classmethod
    def from_env(cls, secrets_dir: Path | str | None = None) -> "Pseudonymizer":
        value = os.environ.get(ENV_VAR)
        if value:
            return cls(_key_bytes(value), "env")
        if secrets_dir is None:
            from rsoko_pipelines.settings import Settings

            secrets_dir = Settings.from_env().secrets_dir
        path = Path(secrets_dir) / KEY_FILE
        if path.exists():
            return cls(_key_bytes(path.read_text(encoding="utf-8")), "file")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:       # another process generated it meanwhile
            return cls(_key_bytes(path.read_text(encoding="utf-8")), "file")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        os.chmod(path, 0o600)
        return cls(_key_bytes(path.read_text(encoding="utf-8")), "generated")

    def participant_key(self, series: str | None, number: str | None) -> str | None:
        """Hex key, or None when both series and number are empty."""
        norm = normalize_document(series, number)
        if not norm:
            return None
        h = self._base.copy()
        h.update(norm.encode("utf-8"))
        return h.hexdigest()

    def keyed_hashes(self, normalised, domain: str = "") -> pa.Array:
        """Hex HMAC of each normalised value (NULL stays NULL), prefixed by ``domain:``; each
        distinct value is hashed once (a staff key repeats on every row of the person)."""
        values = normalised.to_pylist() if hasattr(normalised, "to_pylist") else list(normalised)
        prefix = f"{domain}:" if domain else ""
        base = self._base
        done: dict[str, str] = {}
        out = []
        append = out.append
        for value in values:
            if value is None or value == "":
                append(None)
                continue
            key = done.get(value)
            if key is None:
                h = base.copy()
                h.update((prefix + value).encode("utf-8"))
                key = done[value] = h.hexdigest()
            append(key)
        return pa.array(out, type=pa.string())

    def participant_keys(self, series, number) -> pa.Array:
        """Vectorised over two columns (pyarrow arrays / lists); returns a string array."""
        s = series.to_pylist() if hasattr(series, "to_pylist") else list(series)
        n = number.to_pylist() if hasattr(number, "to_pylist") else list(number)
        if len(s) != len(n):
            raise ValueError("series and number columns differ in length")
        base = self._base
        drop = _DROP.sub
        table = _LOOKALIKES
        out = []
        append = out.append
        for a, b in zip(s, n):
            norm = drop("", f"{a or ''}{b or ''}").upper().translate(table)
            if norm:
                h = base.copy()
                h.update(norm.encode("utf-8"))
                append(h.hexdigest())
            else:
                append(None)
        return pa.array(out, type=pa.string())
