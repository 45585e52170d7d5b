"""Private signing keys given as a setting: one or more PEM Ed25519 keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from typer.testing import CliRunner

from lianbo.adapters.key_store import new_private_pem, parse_private_keys
from lianbo.cli import app


def test_a_bundle_of_keys_is_read_in_order() -> None:
    (first, a), (second, b) = new_private_pem(), new_private_pem()
    assert list(parse_private_keys(f"# the new one\n{a}\n{b}")) == [first, second]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no PEM private key"),
        (
            "-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----\n",
            "not an unencrypted",
        ),
    ],
)
def test_what_is_not_a_key_is_named(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_private_keys(text)


def test_only_ed25519_keys_sign() -> None:
    pem = generate_private_key(SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="not an Ed25519"):
        parse_private_keys(pem.decode())


def test_lianbo_keys_new_appends_a_private_key_file(tmp_path: Path) -> None:
    out = tmp_path / "signing.pem"
    runner = CliRunner()
    for _ in range(2):
        assert runner.invoke(app, ["keys", "new", "--out", str(out)]).exit_code == 0
    assert len(parse_private_keys(out.read_text())) == 2
    assert out.stat().st_mode & 0o777 == 0o600
    refused = runner.invoke(app, ["keys", "new", "--out", str(tmp_path / "no" / "k.pem")])
    assert refused.exit_code == 1 and "cannot write" in refused.output
