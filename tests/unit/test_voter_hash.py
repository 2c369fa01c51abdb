"""The voter hash is stored: the same key, poll and member must give the same digits in
every version, or a changed answer would count twice and `forget` would miss answers."""

from __future__ import annotations

from storage.voters import voter_hash


def test_the_voter_hash_stays_what_was_stored() -> None:
    digits = voter_hash(b"k" * 32, "poll:12", "@anna:example.org")
    assert digits == "1de6f74d0b1c3b78447b35ffa1931104d4802e6499eec9b61eea482aba32a152"


def test_each_poll_hashes_the_same_member_apart() -> None:
    key = b"k" * 32
    assert voter_hash(key, "poll:12", "@anna:example.org") != voter_hash(
        key, "poll:13", "@anna:example.org"
    )
