"""Loaded at start-up by every Steward process of a bench run made with `--experiment sqlite-normal`
(this folder is put first on PYTHONPATH): SQLite connections use `PRAGMA synchronous=NORMAL`.

It measures a change suggested to `steward/store/database.py: make_engine` without editing it:
in WAL mode, NORMAL syncs at checkpoints instead of on every commit, so a commit no longer waits
for the disk (a crash of the process loses nothing; a power cut may lose the last commits).
"""

from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _synchronous_normal(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
