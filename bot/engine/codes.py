"""Access codes: easy to read aloud, stored only as a slow hash, used once."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from bot.pepper import lookup_forms, stored_form
from bot.storage.models import AccessCode, AuditEntry, CodeAttempt

# No 0/O, 1/I/L: nothing that reads two ways.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 9  # 31**9 ≈ 2**44.6
_SALT = b"guidebot-access-code-v1"


# Letter groups the shipped escalation rules read as risk words ("KMS", "KYS": kill myself, "GUN",
# "TAU" (rope), "BRU" (bridge) ...): a code never holds one, so nobody reads one out from a code
# card. tests/test_clinician_codes.py checks every three-letter group against the shipped rules.
# A code an admin's own rules would read is still passed over as the code it is (reading.py).
AVOID_GROUPS = frozenset({"ARA", "BRU", "CTB", "GGG", "GUN", "KMS", "KTS", "KYS", "TAU"})


def new_code() -> str:
    while True:
        raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        groups = (raw[:3], raw[3:6], raw[6:])
        if AVOID_GROUPS.isdisjoint(groups):  # 9 of 29,791 groups: about one code in 1,100 is drawn again
            return "-".join(groups)


def normalize(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    normalized = normalize(code).encode()
    return hashlib.scrypt(normalized, salt=_SALT, n=2**14, r=8, p=1, dklen=32).hex()


def looks_like_code(text: str) -> bool:
    normalized = normalize(text)
    return len(normalized) == LENGTH and all(ch in ALPHABET for ch in normalized)


def chat_key(chat_id: int) -> str:
    """A pseudonymous key for counting one chat's failed attempts."""
    return hashlib.sha256(f"attempts:{chat_id}".encode()).hexdigest()[:32]


def audit(
    session: Session, now: datetime, actor: str, action: str, subject: str | None = None, **detail: object
) -> None:
    session.add(AuditEntry(at=now, actor=actor, action=action, subject=subject, detail=dict(detail)))


@dataclass(frozen=True)
class IssuedCode:
    code: str
    label: str
    program: str
    expires_at: datetime


def issue_code(
    session: Session,
    now: datetime,
    *,
    program: str,
    label: str | None,
    ttl_days: int,
    clinician_id: int | None = None,
    actor: str = "cli",
    pepper_key: str = "",
) -> IssuedCode:
    """Make a code for `program`; the label names the case (made up if not given)."""
    if label is None:
        label = _free_label(session)
    elif session.exec(select(AccessCode).where(AccessCode.label == label)).first() is not None:
        raise ValueError(f"the label '{label}' is already in use")
    code = new_code()
    expires = now + timedelta(days=ttl_days)
    session.add(
        AccessCode(
            code_hash=stored_form(hash_code(code), pepper_key, "code"),
            program=program,
            label=label,
            clinician_id=clinician_id,
            created_at=now,
            expires_at=expires,
        )
    )
    audit(session, now, actor, "code_created", label, program=program)
    return IssuedCode(code=code, label=label, program=program, expires_at=expires)


def _free_label(session: Session) -> str:
    while True:
        label = "K-" + "".join(secrets.choice("23456789") for _ in range(4))
        if session.exec(select(AccessCode).where(AccessCode.label == label)).first() is None:
            return label


def failed_attempts(session: Session, chat_id: int, since: datetime) -> int:
    query = (
        select(func.count())
        .select_from(CodeAttempt)
        .where(CodeAttempt.chat_key == chat_key(chat_id), col(CodeAttempt.at) >= since)
    )
    return int(session.exec(query).one())


def is_issued_code(session: Session, text: str, pepper_key: str = "") -> bool:
    """Whether `text` as a whole is a code this service made (used, expired or not).

    A code's letters are drawn at random, so about one code in 1,100 holds a group that the
    escalation rules read as a risk word ("KMS-…", "KYS-…"): such a text is the code, not
    the person's words (bot/engine/reading.py).
    """
    if not looks_like_code(text):
        return False
    forms = lookup_forms(hash_code(text), pepper_key, "code")
    return session.exec(select(AccessCode.id).where(col(AccessCode.code_hash).in_(forms))).first() is not None


def find_redeemable(session: Session, text: str, now: datetime, pepper_key: str = "") -> AccessCode | None:
    if not looks_like_code(text):
        return None
    forms = lookup_forms(hash_code(text), pepper_key, "code")  # peppered, and as stored before the key was set
    found = session.exec(select(AccessCode).where(col(AccessCode.code_hash).in_(forms))).first()
    if found is None or found.redeemed_at is not None or found.expires_at <= now:
        return None
    return found
