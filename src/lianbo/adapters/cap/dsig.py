"""XML-DSig on CAP messages: checking a sender's enveloped ``<Signature>``
and signing our own (ADR 0027), with signxml.

The document has already passed ``reader.parse_xml`` (no DTD, no
entities, bounded size) before anything here reads it; signxml parses it
again with lxml, entities off. A check never raises for what a sender
sent: every fault is a :class:`SignatureCheck` the alert shows.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree
from signxml import methods
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, XMLVerifier

from lianbo.domain.alerting.signatures import (
    UNSIGNED,
    SignatureCheck,
    SignatureReason,
)

DS = "http://www.w3.org/2000/09/xmldsig#"
_log = logging.getLogger(__name__)
# Entities off, no network, no huge trees: the same stance as defusedxml.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_STRICT = SignatureConfiguration(expect_references=1)
# SHA-1 is checked (to tell a sound old signature from a broken one) but
# never verifies a message.
_WITH_SHA1 = replace(
    _STRICT,
    signature_methods=frozenset(SignatureMethod),
    digest_algorithms=frozenset(DigestAlgorithm),
)


@dataclass(frozen=True, slots=True)
class _Signature:
    """What the check needs from the ``<Signature>`` before verifying it."""

    weak: bool  # SHA-1 somewhere in SignedInfo
    whole: bool  # one Reference, to URI="": the whole message
    certificate: x509.Certificate | None  # the one KeyInfo names, if any


def check_signature(raw: bytes, trusted: Sequence[str], now: datetime) -> SignatureCheck:
    """Check ``raw``'s enveloped signature against the PEM certificates
    trusted for its sender, at ``now`` (certificate validity)."""
    try:
        root = etree.fromstring(raw, parser=_PARSER)
    except etree.LxmlError:
        return SignatureCheck.failed(SignatureReason.MALFORMED)
    found = root.findall(f"{{{DS}}}Signature")
    if not found:
        return UNSIGNED
    if len(found) > 1:  # which one speaks for the message is ambiguous
        return SignatureCheck.failed(SignatureReason.MALFORMED)
    signature = _read(found[0])
    if signature is None:
        return SignatureCheck.failed(SignatureReason.MALFORMED)
    named = _identity(signature.certificate)
    if not signature.whole:
        return SignatureCheck.failed(SignatureReason.PARTIAL, *named)
    config = replace(_WITH_SHA1 if signature.weak else _STRICT, verification_time=now)
    expired: tuple[str | None, str | None] | None = None
    for pem in trusted:
        outcome = _verify(raw, pem, config)
        if outcome is None:
            who = _identity(_certificate(pem))
            if signature.weak:
                return SignatureCheck.failed(SignatureReason.WEAK_ALGORITHM, *who)
            return SignatureCheck.verified(*who)
        if outcome is SignatureReason.TAMPERED:
            return SignatureCheck.failed(outcome, *named)
        if outcome is SignatureReason.EXPIRED:
            expired = _identity(_certificate(pem))
    if expired is not None:
        return SignatureCheck.failed(SignatureReason.EXPIRED, *expired)
    return SignatureCheck.failed(_untrusted(raw, signature, config), *named)


def _untrusted(
    raw: bytes, signature: _Signature, config: SignatureConfiguration
) -> SignatureReason:
    """Why no trusted certificate verified it: does the signature at least
    hold for the certificate (or key) it names? If not, it is invalid."""
    if signature.certificate is not None:
        pem = signature.certificate.public_bytes(serialization.Encoding.PEM).decode()
        outcome = _verify(raw, pem, replace(config, verification_time=_signature_time(signature)))
    else:  # a bare KeyValue: check the signature against it, trusting nothing
        try:
            XMLVerifier().verify(
                raw, parser=_PARSER, expect_config=replace(config, require_x509=False)
            )
            outcome = None
        except InvalidDigest:
            outcome = SignatureReason.TAMPERED
        except InvalidSignature:
            outcome = SignatureReason.WRONG_KEY
        except (InvalidInput, etree.LxmlError, ValueError):  # no key to check it with
            outcome = None
    if outcome in (SignatureReason.TAMPERED, SignatureReason.WRONG_KEY):
        return outcome
    return SignatureReason.UNTRUSTED


def _signature_time(signature: _Signature) -> datetime | None:
    """A time inside the named certificate's validity, so an untrusted
    certificate's age does not hide whether its signature holds."""
    cert = signature.certificate
    return cert.not_valid_before_utc if cert is not None else None


def _verify(raw: bytes, pem: str, config: SignatureConfiguration) -> SignatureReason | None:
    """None when the signature holds for ``pem``; else why not."""
    try:
        XMLVerifier().verify(raw, x509_cert=pem, parser=_PARSER, expect_config=config)
    except InvalidDigest:
        return SignatureReason.TAMPERED
    except InvalidCertificate:
        return SignatureReason.EXPIRED
    except InvalidSignature:
        return SignatureReason.WRONG_KEY
    except (InvalidInput, etree.LxmlError, ValueError):
        return SignatureReason.MALFORMED
    return None


def _read(element: etree._Element) -> _Signature | None:
    """The algorithms, reference and certificate of a ``<Signature>``."""
    info = element.find(f"{{{DS}}}SignedInfo")
    if info is None:
        return None
    references = info.findall(f"{{{DS}}}Reference")
    algorithms = [
        str(node.get("Algorithm", "")).lower()
        for node in info.iter(f"{{{DS}}}SignatureMethod", f"{{{DS}}}DigestMethod")
    ]
    whole = len(references) == 1 and references[0].get("URI") == ""
    weak = any(a.endswith(("sha1", "#dsa-sha1")) for a in algorithms)
    text = element.findtext(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    certificate = None
    if text:
        try:
            certificate = x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))
        except (ValueError, binascii.Error):
            return None
    return _Signature(weak, whole, certificate)


def _certificate(pem: str) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return None


def _identity(cert: x509.Certificate | None) -> tuple[str | None, str | None]:
    """(subject, SHA-256 fingerprint) of a certificate, for people."""
    if cert is None:
        return None, None
    return cert.subject.rfc4514_string(), cert.fingerprint(hashes.SHA256()).hex()


def fingerprint(pem: str) -> str:
    """The SHA-256 fingerprint (hex) of a PEM certificate; ValueError if it
    is not one."""
    return x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA256()).hex()


class CapSigner:
    """Signs the CAP documents we serve with the control centre's key and
    certificate (enveloped, exclusive c14n, SHA-256), so a receiver can
    check them, and an entry taken out of our Atom feed still verifies."""

    def __init__(self, key_pem: bytes, cert_pem: bytes) -> None:
        key = serialization.load_pem_private_key(key_pem, password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            self._method = SignatureMethod.RSA_SHA256
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            self._method = SignatureMethod.ECDSA_SHA256
        else:
            raise ValueError("the CAP signing key must be RSA or EC")
        cert = x509.load_pem_x509_certificate(cert_pem)
        spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
            raise ValueError("the CAP signing certificate is not the key's")
        self._key = key
        self._cert = cert_pem.decode()

    def sign(self, document: bytes) -> bytes:
        """``document`` (our own CAP XML) with our enveloped signature."""
        root = etree.fromstring(document, parser=_PARSER)
        signer = XMLSigner(
            method=methods.enveloped,
            signature_algorithm=self._method,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        signed = signer.sign(root, key=self._key, cert=self._cert)
        body: bytes = etree.tostring(signed, xml_declaration=True, encoding="utf-8")
        return body
