"""``lianbo cap-senders``: trust, list and forget from the command line;
bad input is one line and exit 1, and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_cli import lianbo
from tests.support.cap_signing import Identity

pytestmark = pytest.mark.integration


def test_trust_list_forget_and_bad_input(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert lianbo("init", data_dir=data).returncode == 0
    cert = tmp_path / "sender.pem"
    cert.write_text(Identity.make("cma.example").cert_pem)
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    garbled = tmp_path / "garbled.pem"
    garbled.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    for args, words in [
        (["trust", "cma@gov.cn", "--cert", str(not_pem)], "not a PEM certificate"),
        (["trust", "cma@gov.cn", "--cert", str(tmp_path / "missing.pem")], "cannot read"),
        (["trust", "cma@gov.cn", "--cert", str(garbled)], "certificates[0]"),
        (["trust", "cma@gov.cn", "--must-sign"], "certificate"),
        (["trust", "a b", "--cert", str(cert)], "sender"),
        (["forget", "nobody@gov.cn"], "no trusted CAP sender"),
    ]:
        bad = lianbo("cap-senders", *args, data_dir=data)
        assert bad.returncode == 1, bad.stdout
        assert len(bad.stderr.strip().splitlines()) == 1 and words in bad.stderr, bad.stderr
    assert "cma@gov.cn" not in lianbo("cap-senders", "list", data_dir=data).stdout
    made = lianbo(
        "cap-senders", "trust", "cma@gov.cn", "--cert", str(cert), "--must-sign", data_dir=data
    )
    assert made.returncode == 0 and "must sign" in made.stdout
    listed = lianbo("cap-senders", "list", data_dir=data).stdout
    assert "cma@gov.cn" in listed and "yes" in listed
    assert lianbo("cap-senders", "forget", "cma@gov.cn", data_dir=data).returncode == 0
    assert "cma@gov.cn" not in lianbo("cap-senders", "list", data_dir=data).stdout
