"""GUIDEBOT_SECRET_KEY as a pepper: a hash stored in the database is keyed with a secret
that is not in the database, so a copy of the database alone (a lost backup) cannot be
used to test guesses of access codes or tokens.

The stored form tells which scheme made it: `p1$<hex>` is HMAC-SHA256 with the key over
the unkeyed hash; plain hex is the unkeyed hash itself, as stored before a key was set.
A lookup accepts both, so codes made before the key was set keep working (they expire
after GUIDEBOT_CODE_TTL_DAYS anyway); new ones are stored peppered once a key is set.

Changing or removing the key makes every peppered hash unmatchable: codes made under
the old key must be made again.
"""

from __future__ import annotations

import hashlib
import hmac

PEPPERED = "p1$"


def pepper(digest: str, key: str, purpose: str) -> str:
    """The peppered form of an unkeyed hash (hex), for one purpose ("code", "token", ...)."""
    mac = hmac.new(key.encode(), f"{purpose}:{digest}".encode(), hashlib.sha256).hexdigest()
    return PEPPERED + mac


def stored_form(digest: str, key: str, purpose: str) -> str:
    """What to store for a new secret: peppered when a key is set, else the hash itself."""
    return pepper(digest, key, purpose) if key else digest


def lookup_forms(digest: str, key: str, purpose: str) -> tuple[str, ...]:
    """Every stored form that matches this hash: the peppered one, and the unkeyed one of older rows."""
    return (pepper(digest, key, purpose), digest) if key else (digest,)


def is_peppered(stored: str) -> bool:
    return stored.startswith(PEPPERED)


def token_hash(token: str, key: str, purpose: str) -> str:
    """The stored form of a long random token (a dashboard link): SHA-256, peppered when a key is set."""
    return stored_form(hashlib.sha256(f"{purpose}:{token}".encode()).hexdigest(), key, purpose)
