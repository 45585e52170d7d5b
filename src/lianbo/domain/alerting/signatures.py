"""Whether a CAP message is signed by whom it says, and what follows.

CAP 1.2 lets a sender sign its message with an enveloped XML-DSig
``<Signature>`` (every IPAWS message carries one). A receiver checks it
against certificates it trusts for that sender, exchanged out of band
(ADR 0027). The outcome is one of three states, shown on the alert:

- ``verified``: signed, over the whole message, by a certificate trusted
  for its sender, with an algorithm we accept;
- ``unverified``: not signed, or signed by a certificate we have no trust
  in, or with SHA-1, or by a trusted certificate that has expired — the
  signature may be sound, but it proves nothing we can rely on;
- ``invalid``: signed, but the signature does not hold: the message was
  changed after signing, or it was signed by another key than the one it
  names, or the signature covers only part of the message.

A life-safety message is not refused for its signature unless its sender
is configured as one that must sign (``SenderTrust.must_be_signed``); then
anything but ``verified`` is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SignatureState(StrEnum):
    VERIFIED = "verified"
    UNVERIFIED = "unverified"
    INVALID = "invalid"


class SignatureReason(StrEnum):
    """Why a signature is not ``verified`` (the catalogs word each one)."""

    UNSIGNED = "unsigned"
    UNTRUSTED = "untrusted"  # signed; no certificate trusted for this sender verifies it
    WEAK_ALGORITHM = "weak_algorithm"  # SHA-1: sound, but forgeable in principle
    EXPIRED = "expired"  # by a trusted certificate outside its validity
    TAMPERED = "tampered"  # a digest does not match: changed after signing
    WRONG_KEY = "wrong_key"  # the signature value does not match the key
    PARTIAL = "partial"  # the signature covers part of the message, not all of it
    MALFORMED = "malformed"  # a Signature element we cannot read


_INVALID = frozenset(
    {
        SignatureReason.TAMPERED,
        SignatureReason.WRONG_KEY,
        SignatureReason.PARTIAL,
        SignatureReason.MALFORMED,
    }
)


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """The outcome of checking one message's signature.

    ``signer``: the signing certificate's subject when one was named;
    ``fingerprint``: its SHA-256, hex, for the admin comparing it with what
    the sender published."""

    state: SignatureState
    reason: SignatureReason | None = None
    signer: str | None = None
    fingerprint: str | None = None

    @classmethod
    def verified(cls, signer: str | None, fingerprint: str | None) -> SignatureCheck:
        """Signed by a trusted certificate for this sender."""
        return cls(SignatureState.VERIFIED, None, signer, fingerprint)

    @classmethod
    def failed(
        cls, reason: SignatureReason, signer: str | None = None, fingerprint: str | None = None
    ) -> SignatureCheck:
        """Not verified, for ``reason``: invalid or merely unverified."""
        state = SignatureState.INVALID if reason in _INVALID else SignatureState.UNVERIFIED
        return cls(state, reason, signer, fingerprint)

    def as_json(self) -> dict[str, str | None]:
        """The stored form."""
        return {
            "state": self.state.value,
            "reason": self.reason.value if self.reason else None,
            "signer": self.signer,
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def of_json(cls, data: dict[str, str | None]) -> SignatureCheck:
        """The inverse of :meth:`as_json`."""
        reason, state = data.get("reason"), data.get("state")
        return cls(
            SignatureState(state or SignatureState.UNVERIFIED),
            SignatureReason(reason) if reason else None,
            data.get("signer"),
            data.get("fingerprint"),
        )


UNSIGNED = SignatureCheck.failed(SignatureReason.UNSIGNED)


@dataclass(frozen=True, slots=True)
class SenderTrust:
    """What an admin has configured for one CAP sender: the certificates
    (PEM) its signatures are checked against, and whether it must sign."""

    sender: str
    certificates: tuple[str, ...]
    must_be_signed: bool = False


def refusal(check: SignatureCheck, trust: SenderTrust | None) -> SignatureReason | None:
    """Why a message must be refused for its signature, or None to accept.

    Only a sender configured as one that must sign has messages refused,
    and then for anything short of ``verified``."""
    if trust is None or not trust.must_be_signed or check.state is SignatureState.VERIFIED:
        return None
    return check.reason or SignatureReason.UNSIGNED
