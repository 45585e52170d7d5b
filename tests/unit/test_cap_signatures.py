"""XML-DSig on CAP: what each signature real senders send checks as, and
our own signature's round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lianbo.adapters.cap import read_cap, to_cap_xml
from lianbo.adapters.cap.dsig import CapSigner, check_signature
from lianbo.domain.alerting.signatures import (
    SenderTrust,
    SignatureReason,
    SignatureState,
    refusal,
)
from tests.integration.alerts.samples import SAMPLES
from tests.support.cap_signing import Identity, sign

NOW = datetime.now(UTC)
MESSAGE = SAMPLES["alert_multilang.xml"].encode()


@pytest.fixture(scope="module")
def sender() -> Identity:
    return Identity.make("cma-sichuan.gov.cn")


@pytest.fixture(scope="module")
def stranger() -> Identity:
    return Identity.make("someone-else.example")


@pytest.mark.parametrize("style", ["ipaws", "exclusive"])
def test_a_message_signed_by_a_trusted_certificate_is_verified(
    sender: Identity, style: str
) -> None:
    signed = sign(MESSAGE, sender, style=style)
    reading = read_cap(signed)
    check = check_signature(signed, [sender.cert_pem], NOW)
    assert reading.signed and reading.alert.identifier == "SC-2026-0710-001"
    assert check.state is SignatureState.VERIFIED and check.reason is None
    assert check.signer == "CN=cma-sichuan.gov.cn" and len(check.fingerprint or "") == 64


def test_an_ec_signature_is_verified() -> None:
    identity = Identity.make("ec.example", kind="ec")
    check = check_signature(sign(MESSAGE, identity), [identity.cert_pem], NOW)
    assert check.state is SignatureState.VERIFIED


def test_any_of_a_senders_certificates_verifies(sender: Identity, stranger: Identity) -> None:
    check = check_signature(sign(MESSAGE, sender), [stranger.cert_pem, sender.cert_pem], NOW)
    assert check.state is SignatureState.VERIFIED


def test_a_message_changed_after_signing_is_invalid(sender: Identity) -> None:
    signed = sign(MESSAGE, sender)
    changed = signed.replace("橙色".encode(), "红色".encode(), 1)
    assert changed != signed
    check = check_signature(changed, [sender.cert_pem], NOW)
    assert (check.state, check.reason) == (SignatureState.INVALID, SignatureReason.TAMPERED)


def test_a_changed_message_is_invalid_even_from_an_unknown_sender(sender: Identity) -> None:
    changed = sign(MESSAGE, sender).replace(b"<status>Actual", b"<status>Exercise", 1)
    check = check_signature(changed, [], NOW)
    assert (check.state, check.reason) == (SignatureState.INVALID, SignatureReason.TAMPERED)


def test_a_sound_signature_by_an_untrusted_certificate_is_unverified(
    sender: Identity, stranger: Identity
) -> None:
    check = check_signature(sign(MESSAGE, stranger), [sender.cert_pem], NOW)
    assert (check.state, check.reason) == (SignatureState.UNVERIFIED, SignatureReason.UNTRUSTED)
    assert check.signer == "CN=someone-else.example"


def test_a_signature_naming_another_certificate_than_its_key_is_invalid(
    sender: Identity, stranger: Identity
) -> None:
    by_stranger = sign(MESSAGE, stranger)
    named = sign(MESSAGE, sender)
    # The stranger's signature, presenting the sender's certificate.
    forged = by_stranger.replace(_certificate_text(by_stranger), _certificate_text(named))
    check = check_signature(forged, [sender.cert_pem], NOW)
    assert (check.state, check.reason) == (SignatureState.INVALID, SignatureReason.WRONG_KEY)


def test_an_unsigned_message_is_unverified(sender: Identity) -> None:
    check = check_signature(MESSAGE, [sender.cert_pem], NOW)
    assert (check.state, check.reason) == (SignatureState.UNVERIFIED, SignatureReason.UNSIGNED)
    assert not read_cap(MESSAGE).signed


def test_sha1_is_never_verified_but_is_told_from_a_broken_signature(sender: Identity) -> None:
    signed = sign(MESSAGE, sender, style="sha1")
    check = check_signature(signed, [sender.cert_pem], NOW)
    assert (check.state, check.reason) == (
        SignatureState.UNVERIFIED,
        SignatureReason.WEAK_ALGORITHM,
    )
    broken = check_signature(signed.replace(b"Actual", b"Exercise", 1), [sender.cert_pem], NOW)
    assert broken.state is SignatureState.INVALID


def test_a_trusted_certificate_outside_its_validity_does_not_verify() -> None:
    old = Identity.make("old.example", valid_from=NOW - timedelta(days=400), valid_days=30)
    check = check_signature(sign(MESSAGE, old), [old.cert_pem], NOW)
    assert (check.state, check.reason) == (SignatureState.UNVERIFIED, SignatureReason.EXPIRED)
    # The same message checked at a time inside the validity: verified.
    then = NOW - timedelta(days=390)
    assert check_signature(sign(MESSAGE, old), [old.cert_pem], then).state is (
        SignatureState.VERIFIED
    )


def test_a_signature_over_part_of_the_message_is_invalid(sender: Identity) -> None:
    signed = sign(MESSAGE, sender).replace(b'URI=""', b'URI="#info"', 1)
    check = check_signature(signed, [sender.cert_pem], NOW)
    assert (check.state, check.reason) == (SignatureState.INVALID, SignatureReason.PARTIAL)


def test_two_signatures_or_an_unreadable_certificate_are_malformed(sender: Identity) -> None:
    signed = sign(MESSAGE, sender)
    start = signed.index(b"<Signature")
    end = signed.index(b"</Signature>") + len(b"</Signature>")
    doubled = signed[:end] + signed[start:end] + signed[end:]
    garbled = signed.replace(_certificate_text(signed), b"bm90IGEgY2VydGlmaWNhdGU=")
    for bad in (doubled, garbled):
        check = check_signature(bad, [sender.cert_pem], NOW)
        assert (check.state, check.reason) == (SignatureState.INVALID, SignatureReason.MALFORMED)


def test_a_signature_without_a_certificate_checks_against_the_trusted_one(
    sender: Identity, stranger: Identity
) -> None:
    signed = sign(MESSAGE, sender, with_certificate=False)
    assert check_signature(signed, [sender.cert_pem], NOW).state is SignatureState.VERIFIED
    check = check_signature(signed, [stranger.cert_pem], NOW)
    assert (check.state, check.reason) == (SignatureState.UNVERIFIED, SignatureReason.UNTRUSTED)


def test_our_signature_round_trips_through_our_reader(sender: Identity) -> None:
    alert = read_cap(MESSAGE).alert
    ours = Identity.make("lianbo.sc.example", kind="ec")
    signed = CapSigner(ours.key_pem, ours.cert_pem.encode()).sign(to_cap_xml(alert))
    reading = read_cap(signed)
    assert reading.signed and reading.alert == alert
    assert check_signature(signed, [ours.cert_pem], NOW).state is SignatureState.VERIFIED
    assert check_signature(signed, [sender.cert_pem], NOW).state is SignatureState.UNVERIFIED


def test_a_signer_refuses_a_certificate_that_is_not_its_keys(
    sender: Identity, stranger: Identity
) -> None:
    with pytest.raises(ValueError, match="not the key's"):
        CapSigner(sender.key_pem, stranger.cert_pem.encode())


def test_only_a_sender_that_must_sign_has_messages_refused(sender: Identity) -> None:
    unsigned = check_signature(MESSAGE, [], NOW)
    verified = check_signature(sign(MESSAGE, sender), [sender.cert_pem], NOW)
    relaxed = SenderTrust("cma-sichuan@gov.cn", (sender.cert_pem,), must_be_signed=False)
    strict = SenderTrust("cma-sichuan@gov.cn", (sender.cert_pem,), must_be_signed=True)
    assert refusal(unsigned, None) is None
    assert refusal(unsigned, relaxed) is None
    assert refusal(unsigned, strict) is SignatureReason.UNSIGNED
    assert refusal(verified, strict) is None


def _certificate_text(signed: bytes) -> bytes:
    start = signed.index(b"X509Certificate>") + len(b"X509Certificate>")
    return signed[start : signed.index(b"</", start)]
