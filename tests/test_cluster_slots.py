"""Pure cluster helpers: CRC16 and key slots per the Redis Cluster specification, hash tags,
cross-slot refusals and the scan result (the real cluster's CLUSTER KEYSLOT agrees: see
tests/_async/test_cluster_ops.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.crc import key_slot as redis_py_key_slot

from redis_toolkit import ClusterConfigError, CrossSlotError, ValidationError
from redis_toolkit.cluster_utils import (
    SLOT_COUNT,
    ScanResult,
    crc16,
    group_by_slot,
    hash_tag,
    hash_tag_of,
    keyslot,
    require_same_slot,
    same_slot,
)


def test_crc16_check_value_of_the_specification() -> None:
    assert crc16(b"123456789") == 0x31C3
    assert crc16(b"") == 0
    assert keyslot("123456789") == 0x31C3 % SLOT_COUNT == 12739


@pytest.mark.parametrize(
    ("key", "hashed"),
    [
        ("{user1000}.following", "user1000"),  # the specification's examples
        ("{user1000}.followers", "user1000"),
        ("foo{}{bar}", "foo{}{bar}"),  # empty first tag: the whole key
        ("foo{{bar}}zap", "{bar"),
        ("foo{bar}{zap}", "bar"),
        ("no tag", "no tag"),
        ("open{only", "open{only"),
        ("}{x}", "x"),
    ],
)
def test_hash_tag_rules_of_the_specification(key: str, hashed: str) -> None:
    assert keyslot(key) == crc16(hashed.encode()) % SLOT_COUNT
    assert (hash_tag_of(key) or key) == hashed


@given(st.binary(max_size=40))
def test_keyslot_agrees_with_redis_py(key: bytes) -> None:
    assert keyslot(key) == redis_py_key_slot(key)
    text = key.decode("latin-1")
    assert keyslot(text) == redis_py_key_slot(text.encode("utf-8"))


@given(st.lists(st.one_of(st.binary(max_size=12), st.text(max_size=12)), max_size=30))
def test_group_by_slot_agrees_with_keyslot(keys: list[str | bytes]) -> None:
    groups = group_by_slot(keys)
    assert sum(map(len, groups.values())) == len(keys)
    for slot, slot_keys in groups.items():
        assert all(keyslot(k) == slot for k in slot_keys)


def test_keyslot_refuses_what_is_not_a_key() -> None:
    with pytest.raises(ValidationError, match="str or bytes"):
        keyslot(12)  # type: ignore[arg-type]


def test_hash_tag_builds_keys_of_one_slot() -> None:
    keys = [hash_tag(name, "user:123") for name in ("profile", "cart", "events")]
    assert keys == ["{user:123}:profile", "{user:123}:cart", "{user:123}:events"]
    assert same_slot(keys) and keyslot(keys[0]) == keyslot("user:123")
    assert hash_tag_of(keys[1]) == "user:123"
    assert hash_tag_of(b"{t}x") == b"t"
    # A key that already holds a tag: the new tag comes first, so it decides.
    assert keyslot(hash_tag("{other}:x", "mine")) == keyslot("mine")


@pytest.mark.parametrize("tag", ["", "a{b", "a}b", 5])
def test_bad_tags_are_refused(tag: object) -> None:
    with pytest.raises(ValidationError):
        hash_tag("key", tag)  # type: ignore[arg-type]


def test_same_slot_and_grouping_keep_order() -> None:
    assert same_slot([]) and same_slot(["a"]) and same_slot(["{x}1", "{x}2", b"{x}3"])
    assert not same_slot(["a", "b"])
    groups = group_by_slot(["a", "{a}1", "b", "{a}2"])
    assert list(groups.values()) == [["a", "{a}1", "{a}2"], ["b"]]


def test_cross_slot_refusal_names_keys_slots_and_the_fix() -> None:
    assert require_same_slot([], "op") is None
    assert require_same_slot(["{t}a", "{t}b"], "op") == keyslot("t")
    with pytest.raises(CrossSlotError) as info:
        require_same_slot(["a", "b", "c"], "mset_cluster(atomic=True)")
    error = info.value
    assert isinstance(error, ClusterConfigError) and isinstance(error, ValueError)
    text = str(error)
    assert "mset_cluster(atomic=True)" in text and "'a'" in text and "hash tag" in text
    assert "nothing was sent" in text
    assert error.key == "a" and sorted(error.slots) == sorted({keyslot(k) for k in "abc"})


def test_scan_result_is_a_list_that_says_if_it_is_complete() -> None:
    whole = ScanResult(["a", "b"], nodes=["h:1"])
    assert whole == ["a", "b"] and whole.complete and "complete" in repr(whole)
    partial = ScanResult(["a"], nodes=["h:1", "h:2"], failed_nodes={"h:2": "refused"})
    assert not partial.complete and "INCOMPLETE" in repr(partial) and "h:2" in repr(partial)
