"""Signed CAP messages the way other systems sign them, for tests.

IPAWS signs with an enveloped ``<Signature>`` in the default XML-DSig
namespace, exclusive C14N and RSA-SHA256, appended to its pretty-printed
message; older feeds (tsunami.gov's CAP-TSU) used RSA-SHA1. ``sign`` makes
each shape, with a certificate made here.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import methods
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

DS = "http://www.w3.org/2000/09/xmldsig#"


@dataclass(frozen=True)
class Identity:
    """A signing key and its self-signed certificate, both PEM."""

    key_pem: bytes
    cert_pem: str

    @classmethod
    def make(
        cls,
        name: str = "cap.sender.example",
        *,
        kind: str = "rsa",
        valid_from: datetime | None = None,
        valid_days: float = 365,
    ) -> Identity:
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
        key = (
            rsa.generate_private_key(65537, 2048)
            if kind == "rsa"
            else ec.generate_private_key(ec.SECP256R1())
        )
        start = valid_from or datetime.now(UTC) - timedelta(days=1)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=valid_days))
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(key_pem, cert.public_bytes(serialization.Encoding.PEM).decode())


class _Sha1Signer(XMLSigner):
    """signxml refuses to make SHA-1 signatures; old senders made them."""

    def check_deprecated_methods(self) -> None:
        return None


def sign(
    document: bytes | str,
    identity: Identity,
    *,
    style: str = "ipaws",
    with_certificate: bool = True,
) -> bytes:
    """``document`` signed by ``identity``, enveloped, in one of the shapes
    real senders use: ``ipaws`` (the default namespace, exclusive C14N,
    RSA/ECDSA-SHA256, appended to the pretty-printed message; made here by
    hand, not by signxml, so our verifier meets another implementation),
    ``exclusive`` (signxml's: ``ds:`` prefix, as we sign), ``sha1``
    (RSA-SHA1, SHA-1 digests, inclusive C14N)."""
    raw = document.encode() if isinstance(document, str) else document
    root = etree.fromstring(raw)
    if style == "ipaws":
        return _by_hand(root, identity, with_certificate)
    signer: XMLSigner
    if style == "sha1":
        signer = _Sha1Signer(
            method=methods.enveloped,
            signature_algorithm=SignatureMethod.RSA_SHA1,
            digest_algorithm=DigestAlgorithm.SHA1,
            c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
        )
    else:
        method = (
            SignatureMethod.ECDSA_SHA256 if _is_ec(identity.key_pem) else SignatureMethod.RSA_SHA256
        )
        signer = XMLSigner(
            method=methods.enveloped,
            signature_algorithm=method,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
    cert = identity.cert_pem if with_certificate else None
    signed = signer.sign(root, key=identity.key_pem, cert=cert)
    body: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    return body


_EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


def _by_hand(root: etree._Element, identity: Identity, with_certificate: bool) -> bytes:
    """An enveloped signature built from the XML-DSig recommendation."""
    digest = hashlib.sha256(etree.tostring(root, method="c14n", exclusive=True)).digest()
    key = serialization.load_pem_private_key(identity.key_pem, password=None)
    algorithm = "ecdsa-sha256" if isinstance(key, ec.EllipticCurvePrivateKey) else "rsa-sha256"
    signature = etree.SubElement(root, f"{{{DS}}}Signature", nsmap={None: DS})
    info = etree.SubElement(signature, f"{{{DS}}}SignedInfo")
    etree.SubElement(info, f"{{{DS}}}CanonicalizationMethod", Algorithm=_EXC_C14N)
    etree.SubElement(
        info,
        f"{{{DS}}}SignatureMethod",
        Algorithm=f"http://www.w3.org/2001/04/xmldsig-more#{algorithm}",
    )
    reference = etree.SubElement(info, f"{{{DS}}}Reference", URI="")
    transforms = etree.SubElement(reference, f"{{{DS}}}Transforms")
    etree.SubElement(transforms, f"{{{DS}}}Transform", Algorithm=f"{DS}enveloped-signature")
    etree.SubElement(transforms, f"{{{DS}}}Transform", Algorithm=_EXC_C14N)
    etree.SubElement(
        reference, f"{{{DS}}}DigestMethod", Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"
    )
    etree.SubElement(reference, f"{{{DS}}}DigestValue").text = base64.b64encode(digest).decode()
    signed_info = etree.tostring(info, method="c14n", exclusive=True)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(signed_info, ec.ECDSA(hashes.SHA256())))
        value = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # XML-DSig: r || s
    else:
        assert isinstance(key, rsa.RSAPrivateKey)
        value = key.sign(signed_info, padding.PKCS1v15(), hashes.SHA256())
    etree.SubElement(signature, f"{{{DS}}}SignatureValue").text = base64.b64encode(value).decode()
    if with_certificate:
        cert = x509.load_pem_x509_certificate(identity.cert_pem.encode())
        der = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        data = etree.SubElement(
            etree.SubElement(signature, f"{{{DS}}}KeyInfo"), f"{{{DS}}}X509Data"
        )
        etree.SubElement(data, f"{{{DS}}}X509Certificate").text = der
    body: bytes = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    return body


def _is_ec(key_pem: bytes) -> bool:
    key = serialization.load_pem_private_key(key_pem, password=None)
    return isinstance(key, ec.EllipticCurvePrivateKey)
