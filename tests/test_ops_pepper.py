"""GUIDEBOT_SECRET_KEY peppers stored hashes; hashes made before the key still match."""

from __future__ import annotations

import hashlib

from bot.pepper import is_peppered, lookup_forms, pepper, stored_form, token_hash

DIGEST = hashlib.sha256(b"a made-up code").hexdigest()


def test_without_a_key_the_hash_is_stored_as_before() -> None:
    assert stored_form(DIGEST, "", "code") == DIGEST
    assert lookup_forms(DIGEST, "", "code") == (DIGEST,)


def test_with_a_key_new_hashes_are_peppered_and_old_ones_still_match() -> None:
    new = stored_form(DIGEST, "k1", "code")
    assert is_peppered(new) and not is_peppered(DIGEST) and DIGEST not in new
    assert new in lookup_forms(DIGEST, "k1", "code")
    assert DIGEST in lookup_forms(DIGEST, "k1", "code"), "a code made before the key keeps working"


def test_the_pepper_depends_on_key_and_purpose() -> None:
    assert pepper(DIGEST, "k1", "code") != pepper(DIGEST, "k2", "code")
    assert pepper(DIGEST, "k1", "code") != pepper(DIGEST, "k1", "token")
    assert stored_form(DIGEST, "k1", "code") not in lookup_forms(DIGEST, "k2", "code"), "another key matches nothing"


def test_a_token_hash_is_peppered_with_a_key() -> None:
    assert not is_peppered(token_hash("t0ken", "", "dashboard"))
    assert is_peppered(token_hash("t0ken", "k1", "dashboard"))
    assert token_hash("t0ken", "k1", "dashboard") != token_hash("t0ken2", "k1", "dashboard")
