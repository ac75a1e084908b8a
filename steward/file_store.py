"""Where photo and call-recording bytes live: one small interface, a directory under the data dir by default.

The bytes stay outside the workflows (a case's history holds their ids only). An object store replaces
`DirectoryFiles` by implementing the same two methods.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from steward.settings import Settings
from steward.store.recordings import RECORDING_SID
from workflows.contracts import PHOTO_ID


class FileStore(Protocol):
    def put(self, file_id: str, data: bytes) -> None: ...

    def get(self, file_id: str) -> bytes | None: ...


class DirectoryFiles:
    """One file per id, in a folder named by a few of its characters (`shard`), written to a temporary name
    and renamed, so a reader never sees half. An id that does not match `pattern` never becomes a path."""

    def __init__(self, root: Path, pattern: str, shard: Callable[[str], str]) -> None:
        self.root, self.pattern, self.shard = root, pattern, shard

    def _path(self, file_id: str) -> Path:
        if not re.fullmatch(self.pattern, file_id):
            raise ValueError(f"not an id of {self.root.name}: {file_id!r}")
        return self.root / self.shard(file_id) / file_id

    def put(self, file_id: str, data: bytes) -> None:
        path = self._path(file_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)

    def get(self, file_id: str) -> bytes | None:
        path = self._path(file_id)
        return path.read_bytes() if path.exists() else None


def photo_files(settings: Settings) -> FileStore:
    return DirectoryFiles(settings.photos, PHOTO_ID, lambda photo_id: photo_id[3:5])


def recording_files(settings: Settings) -> FileStore:
    return DirectoryFiles(settings.recording_dir or settings.data_dir / "recordings", RECORDING_SID,
                          lambda sid: sid[2:4].lower())
