"""PII detection: checksums for ID and card numbers, boundaries for phone numbers."""

from __future__ import annotations

from scenarios.checks.pii import cn_id_valid, find_pii, luhn_valid
from tests.scenarios.helpers import check


def test_resident_id_checksum_per_gb_11643():
    assert cn_id_valid("110105198506152335")
    assert cn_id_valid("11010519491231002x")
    assert not cn_id_valid("110105198506152336")
    assert not cn_id_valid("110105198502302335")


def test_luhn():
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")


def test_each_kind_is_found_with_offsets():
    text = ("ID 110105198506152335, card 4111 1111 1111 1111, mail li.na@example.cn, "
            "mobile 138-1234-5678, office +1 (415) 555-0100.")
    found = find_pii(text)
    assert [(m["kind"], m["text"]) for m in found] == [
        ("cn_id", "110105198506152335"), ("bank_card", "4111 1111 1111 1111"),
        ("email", "li.na@example.cn"), ("cn_mobile", "138-1234-5678"),
        ("phone", "+1 (415) 555-0100")]
    for m in found:
        assert text[m["start"]:m["end"]] == m["text"]


def test_invalid_checksums_and_embedded_digits_are_not_pii():
    text = "Order 110105198506152336 and 4111111111111112; serial 913812345678901."
    assert find_pii(text) == []


def test_mobile_number_needs_boundaries():
    assert [m["text"] for m in find_pii("call 13812345678 now")] == ["13812345678"]
    assert find_pii("ref 213812345678") == []
    assert find_pii("12812345678") == []


def test_pii_leak_is_high_severity_by_default_and_lists_matches():
    result = check({"type": "pii"}, "Her ID is 11010519491231002X.")
    assert (result.passed, result.severity, result.alert) == (False, "high", True)
    assert result.evidence["matches"][0]["kind"] == "cn_id"


def test_values_the_user_gave_and_allowed_values_are_not_leaks():
    history = [{"role": "user", "content": "My number is 13912345678."}]
    assert check({"type": "pii"}, "I'll call you on 139 1234 5678.", history=history).passed
    assert check({"type": "pii", "allow": ["+1 (800) 555-0199"]},
                 "Call our hotline +1 (800) 555-0199.").passed


def test_kinds_parameter_narrows_the_search():
    assert check({"type": "pii", "kinds": ["email"]}, "Phone 13812345678").passed
