"""API bearer tokens: random secrets handed out once, kept only as their SHA-256 hash.

The subject of a resident token is a resident id and that of a staff or supervisor token a staff id
from the directory, so every action can be attributed to a person who exists.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from steward.store.models import ApiToken, Resident, Staff
from workflows.contracts import Actor, Role

TOKEN_PREFIX = "stw_"
_DIRECTORY = {Role.resident: Resident, Role.staff: Staff, Role.supervisor: Staff}
_STAFF_ROLES = [role.value for role, table in _DIRECTORY.items() if table is Staff]


class UnknownSubject(ValueError):
    """The token's subject is not a person of the directory with that role."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(sessions: sessionmaker[Session], role: Role, subject: str,
                 lifetime: timedelta | None = None) -> str:
    """A new token for `subject` acting as `role`, for `lifetime` (for good without one); the clear
    text is returned once and never stored."""
    with sessions.begin() as session:
        return issue_token(session, role, subject, lifetime)


def issue_token(session: Session, role: Role, subject: str, lifetime: timedelta | None = None) -> str:
    """`create_token` in the caller's transaction (the app's sign-in closes its code in the same one)."""
    role = Role(role)
    if role is Role.system:
        raise UnknownSubject("the system role acts inside workflows and gets no API token")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    table = _DIRECTORY.get(role)
    person = session.get(table, subject) if table is not None else None
    if table is not None and (person is None or not person.active):
        raise UnknownSubject(f"no active {table.__tablename__} {subject!r} for a {role.value} token")
    now = datetime.now(UTC)
    session.add(ApiToken(token_hash=_digest(token), role=role.value, subject=subject, created_at=now,
                         revoked_at=None, expires_at=now + lifetime if lifetime is not None else None))
    return token


def resolve_token(sessions: sessionmaker[Session], token: str) -> Actor | None:
    """The person a live token stands for; None for an unknown, revoked or expired token. One query, the
    person's `active` joined in: every request asks it (issue 18)."""
    with sessions() as session:
        row = session.execute(
            select(ApiToken.role, ApiToken.subject, Resident.active, Staff.active)
            .outerjoin(Resident, and_(ApiToken.role == Role.resident.value, Resident.id == ApiToken.subject))
            .outerjoin(Staff, and_(ApiToken.role.in_(_STAFF_ROLES), Staff.id == ApiToken.subject))
            .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None),
                   or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > datetime.now(UTC)))
        ).one_or_none()
    if row is None:
        return None
    role, subject, resident_active, staff_active = row
    active = resident_active if role == Role.resident.value else staff_active
    if active is False:
        return None  # deactivated: refused even if a token escaped the revocation
    return Actor(id=subject, role=Role(role))


def revoke_token(sessions: sessionmaker[Session], token: str) -> bool:
    """Refuse the token from now on; False when it was unknown or already revoked."""
    return _revoke(sessions, ApiToken.token_hash == _digest(token)) == 1


def revoke_subject(sessions: sessionmaker[Session], subject: str) -> int:
    """Refuse every live token of `subject` from now on (a lost phone, someone who left); how many."""
    return _revoke(sessions, ApiToken.subject == subject)


def _revoke(sessions: sessionmaker[Session], which: ColumnElement[bool]) -> int:
    with sessions.begin() as session:
        result = session.execute(
            update(ApiToken).where(which, ApiToken.revoked_at.is_(None)).values(revoked_at=datetime.now(UTC))
        )
        return result.rowcount
