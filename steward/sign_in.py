"""Sign-in by phone number and SMS code, as people in this market expect.

A code is six random digits kept only as a salted hash; it expires after `CODE_LIFETIME`, allows
`MAX_TRIES` wrong guesses and is used once. Asking for a code answers the same whether or not the
phone is in the directory (and is counted against the same limits), so the endpoint tells nobody who
lives or works here. The limits are `steward.limits`, shared by every API replica.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from steward.limits import Limit, take
from steward.store.models import Resident, SignInCode, Staff
from steward.tokens import issue_token
from workflows.contracts import Role, Tier

CODE_LIFETIME = timedelta(minutes=5)
MAX_TRIES = 5
CODES_PER_PHONE = Limit(count=5, per=timedelta(hours=1))
CODES_PER_ADDRESS = Limit(count=30, per=timedelta(hours=1))
GUESSES_PER_ADDRESS = Limit(count=60, per=timedelta(hours=1))


@dataclass(frozen=True)
class CodeToSend:
    """A code for a person of the directory, to be texted to them (the clear code never is stored)."""

    phone: str
    code: str
    locale: str


class CodeRefused(Exception):
    """The code is wrong, expired, used up or was never sent; the same answer for each."""


def _hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def _person(session: Session, phone: str) -> tuple[Role, str, str] | None:
    """Who signs in with this phone: staff first (tier 2 and up are supervisors), then a resident; a
    person deactivated in the directory (left, moved out) is nobody."""
    staff = session.scalars(select(Staff).where(Staff.phone == phone, Staff.active.is_(True))
                            .order_by(Staff.id).limit(1)).first()
    if staff is not None:
        role = Role.supervisor if staff.tier >= Tier.property_manager else Role.staff
        return role, staff.id, staff.locale
    resident = session.scalars(
        select(Resident).where(Resident.phone == phone, Resident.active.is_(True))
        .order_by(Resident.id).limit(1)).first()
    return (Role.resident, resident.id, resident.locale) if resident is not None else None


def request_code(session: Session, phone: str, address: str, now: datetime) -> CodeToSend | None:
    """Count the request against the phone's and the address's limits (`RateLimited` past them), and
    make a code when the phone belongs to someone; earlier codes for the phone stop working."""
    take(session, f"sign-in-code:phone:{phone}", CODES_PER_PHONE, now, "sign-in codes for this phone")
    take(session, f"sign-in-code:address:{address}", CODES_PER_ADDRESS, now,
         "sign-in codes from this address")
    person = _person(session, phone)
    if person is None:
        return None
    role, subject, locale = person
    session.execute(update(SignInCode).where(SignInCode.phone == phone, SignInCode.closed_at.is_(None))
                    .values(closed_at=now))
    code = f"{secrets.randbelow(1_000_000):06d}"
    salt = secrets.token_hex(16)
    session.add(SignInCode(phone=phone, code_hash=_hash(salt, code), salt=salt, role=role.value,
                           subject=subject, created_at=now, expires_at=now + CODE_LIFETIME, tries=0,
                           closed_at=None))
    return CodeToSend(phone=phone, code=code, locale=locale)


@dataclass(frozen=True)
class SignedIn:
    token: str
    role: Role
    subject: str
    expires_at: datetime


def exchange_code(session: Session, phone: str, code: str, address: str, now: datetime,
                  lifetime: timedelta) -> SignedIn:
    """A token for the code's person, or `CodeRefused`. A wrong guess is counted in the caller's
    transaction, which must be committed even when this raises."""
    take(session, f"sign-in-guess:address:{address}", GUESSES_PER_ADDRESS, now,
         "sign-in attempts from this address")
    row = session.scalars(select(SignInCode).where(SignInCode.phone == phone, SignInCode.closed_at.is_(None))
                          .order_by(SignInCode.id.desc()).limit(1)).first()
    if row is None or _aware(row.expires_at, now) <= now or row.tries >= MAX_TRIES:
        raise CodeRefused("this code is wrong or no longer valid: ask for a new one")
    if not hmac.compare_digest(row.code_hash, _hash(row.salt, code)):
        row.tries += 1
        if row.tries >= MAX_TRIES:
            row.closed_at = now
        raise CodeRefused("this code is wrong or no longer valid: ask for a new one")
    row.closed_at = now
    role = Role(row.role)
    token = issue_token(session, role, row.subject, lifetime)
    return SignedIn(token=token, role=role, subject=row.subject, expires_at=now + lifetime)


def _aware(moment: datetime, like: datetime) -> datetime:
    """SQLite hands back naive UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=like.tzinfo)
