"""Where photo bytes live: one small interface, a directory under the data dir by default.

Photos stay outside the workflows (a case's history holds their ids only). An object store replaces
`DirectoryPhotoStore` by implementing the same two methods.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Protocol

from workflows.contracts import PHOTO_ID


class PhotoStore(Protocol):
    def put(self, photo_id: str, data: bytes) -> None: ...

    def get(self, photo_id: str) -> bytes | None: ...


class DirectoryPhotoStore:
    """One file per photo, written to a temporary name and renamed, so a reader never sees half."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, photo_id: str) -> Path:
        if not re.fullmatch(PHOTO_ID, photo_id):
            raise ValueError(f"not a photo id: {photo_id!r}")
        return self.root / photo_id[3:5] / photo_id

    def put(self, photo_id: str, data: bytes) -> None:
        path = self._path(photo_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)

    def get(self, photo_id: str) -> bytes | None:
        path = self._path(photo_id)
        return path.read_bytes() if path.exists() else None
