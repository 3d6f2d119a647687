"""The worked example in docs/code-format.md is real: it verifies as the document says."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization

from edge.credentials.hcn1.verify import verify_code
from edge.credentials.trust.root import load_root_public_key
from edge.credentials.trust.trustlist import parse_denylist, parse_trust_list

DOC = Path(__file__).resolve().parent.parent / "docs" / "code-format.md"


def example(marker: str) -> str:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"<!-- example-{marker} -->") + 1
    block = []
    for line in lines[start:]:
        if not line.startswith("    "):
            break
        block.append(line[4:])
    return "\n".join(block) + "\n"


def test_worked_example_verifies() -> None:
    root = load_root_public_key(example("root").encode())
    assert root.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    trust = parse_trust_list(example("trust-list").encode(), root)
    deny = parse_denylist(example("denylist").encode(), root)
    text = example("code").strip()
    result = verify_code(text, trust, None, 1767225605, 30)
    assert result.valid and result.colour == "green" and result.issuer == "CN-150000"
    assert result.code_id is not None and result.code_id.hex() == "39fbfc70ed27bfc4cfd654c4bfab1609"
    assert result.expires_at == 1767225900
    assert verify_code(text, trust, deny, 1767225605, 30).reason == "revoked"
    assert verify_code(text, trust, None, 1767225931, 30).reason == "expired"
    assert trust.version == 7 and deny.version == 2
