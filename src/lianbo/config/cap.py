"""How this control centre speaks CAP to others: its signature on the CAP
it serves, and its identifiers in China's profile (docs/alerts.md)."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings


class CapSettings(BaseSettings):
    """The CAP signing identity and sender code (a part of ``Settings``)."""

    # The control centre's XML-DSig identity (ADR 0027): a private key (RSA
    # or EC, PEM, unencrypted) and its certificate (PEM). With both, the CAP
    # of every alert issued here (GET /api/v1/alerts/{id}/cap, the Atom feed)
    # carries our enveloped signature; without, it is served unsigned.
    cap_signing_key_file: Path | None = None
    cap_signing_cert_file: Path | None = None
    # GB/T 35965.1-2018 发布单位代码 (ZZZZZZDDDUUUXX: region, GB/T 4657
    # organisation, unit, extension). With it, alerts written here get
    # identifiers in China's form, <code>_<YYYYMMDDhhmmss Beijing>_<N>;
    # without, a random hex identifier.
    cap_sender_code: str | None = Field(default=None, pattern=r"^\d{14}$")

    @model_validator(mode="after")
    def _key_and_certificate_together(self) -> CapSettings:
        if (self.cap_signing_key_file is None) != (self.cap_signing_cert_file is None):
            raise ValueError(
                "LIANBO_CAP_SIGNING_KEY_FILE and LIANBO_CAP_SIGNING_CERT_FILE go together"
            )
        pems = self.cap_signing_pems()
        if pems is not None:
            _check_pair(*pems)
        return self

    def cap_signing_pems(self) -> tuple[bytes, bytes] | None:
        """(key, certificate) PEM bytes, or None when CAP is served unsigned."""
        if self.cap_signing_key_file is None or self.cap_signing_cert_file is None:
            return None
        try:
            return self.cap_signing_key_file.read_bytes(), self.cap_signing_cert_file.read_bytes()
        except OSError as error:
            raise ValueError(f"CAP signing key or certificate: {error.strerror}") from None


def _check_pair(key_pem: bytes, cert_pem: bytes) -> None:
    """A readable, unencrypted RSA or EC key and the certificate of that key."""
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
        cert = x509.load_pem_x509_certificate(cert_pem)
    except (ValueError, TypeError):
        raise ValueError("the CAP signing key or certificate is not readable PEM") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("the CAP signing key must be RSA or EC")
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise ValueError("the CAP signing certificate is not the signing key's")
