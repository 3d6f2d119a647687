"""First-boot enrolment end to end on loopback: central's endpoint, the gate, the broker's CRL."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from central.cli import main as central_main
from central.enrol.api import Enrolment, enrolment_router
from central.enrol.authority import ACL, Authority, Settings
from central.enrol.ca import CRL
from central.keys import generate_private_key, public_key_pem
from central.platform.api import PlatformSetup
from central.platform.server import RunningPlatform
from central.platform.store import PlatformStore
from edge.app.config import load_config
from edge.cli import main as edge_main
from edge.errors import EnrolmentError
from edge.provision.bootfile import BootFile, read_boot_file
from edge.provision.enrol import Layout, check_bundle, enrol, http_post, read_state
from edge.sim.broker import LocalBroker, free_port
from edge.wire.enrol import EnrolBundle, EnrolToken

TEMPLATE = Path(__file__).resolve().parent.parent / "deploy" / "rpi" / "gate-edge.toml"


class Clock:
    """Central's and the gates' wall clock, moved by the tests."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Central:
    """The enrolment directory and the platform serving its endpoint."""

    def __init__(self, root: Path) -> None:
        self.clock = Clock()
        keys = root / "keys"
        keys.mkdir()
        for name in ("trust-root", "command"):
            (keys / f"{name}.pub.pem").write_bytes(
                public_key_pem(generate_private_key("ES256").public_key())
            )
        self.dir = root / "enrol"
        self.authority = Authority.init(
            self.dir,
            Settings("mqtts://127.0.0.1:8883"),
            keys / "trust-root.pub.pem",
            keys / "command.pub.pem",
            self.clock,
        )
        store = PlatformStore(str(root / "platform.sqlite"))
        self.platform = RunningPlatform(
            PlatformSetup(store, b"k" * 32), routers=[enrolment_router(self.authority)]
        ).start()

    def boot_file(self, directory: Path, site: str, gate: str, token: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "gate-edge-enrol.toml"
        path.write_text(
            f'site = "{site}"\ngate = "{gate}"\ncentral = "{self.platform.url}"\n'
            f'token = "{token}"\n'
        )
        return path


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    central = Central(tmp_path_factory.mktemp("central"))
    yield central
    central.platform.stop()
    central.authority.close()


def _gate(central: Central, root: Path, site: str, gate: str, token: str) -> tuple[Path, Layout]:
    boot = central.boot_file(root / "boot", site, gate, token)
    return boot, Layout(root / "etc" / "gate-edge.toml", root / "state", TEMPLATE)


def _enrol(central: Central, boot: Path, layout: Layout) -> str:
    parsed = read_boot_file(boot)
    return enrol(parsed, layout, http_post(parsed), central.clock)


def test_a_gate_enrols_writes_a_config_that_checks_and_stays_enrolled(
    central: Central, tmp_path: Path
) -> None:
    token = central.authority.issue_token("east", "g01", 3600)
    boot, layout = _gate(central, tmp_path, "east", "g01", token)
    assert "enrolled as east.g01" in _enrol(central, boot, layout)
    config = load_config(str(layout.config))
    assert (config.gate.site, config.gate.gate) == ("east", "g01")
    assert config.mqtt.broker == "mqtts://127.0.0.1:8883"
    assert Path(config.mqtt.cert_file).read_text().startswith("-----BEGIN CERTIFICATE")
    assert (layout.state_dir / "device.key").stat().st_mode & 0o777 == 0o600
    assert read_state(layout.state_dir)["state"] == "enrolled"  # type: ignore[index]
    assert not boot.exists(), "the token leaves the boot partition"
    assert token.split(".")[1] not in boot.with_name(boot.name + ".done").read_text()
    acl = (central.dir / ACL).read_text()
    assert "user east.g01\ntopic write gates/east/g01/events" in acl
    # A second boot (file put back by hand, say) changes nothing and asks central nothing.
    boot.write_text(boot.with_name(boot.name + ".done").read_text() + f'token = "{token}"\n')
    parsed = read_boot_file(boot)

    def no_network(
        url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        raise AssertionError("an enrolled gate does not ask again")

    assert enrol(parsed, layout, no_network, central.clock) == "already enrolled as east.g01"


def test_a_wrong_or_unknown_token_is_refused_and_recorded(central: Central, tmp_path: Path) -> None:
    token = EnrolToken.parse(central.authority.issue_token("east", "g02", 3600))
    forged = f"{token.token_id}.{'x' * 43}"
    boot, layout = _gate(central, tmp_path / "a", "east", "g02", forged)
    with pytest.raises(EnrolmentError, match=r"\(403\).*signature"):
        _enrol(central, boot, layout)
    state = read_state(layout.state_dir)
    assert state is not None and state["state"] == "failed" and "403" in str(state["reason"])
    boot, layout = _gate(central, tmp_path / "b", "east", "g02", f"{'0' * 16}.{'y' * 43}")
    with pytest.raises(EnrolmentError, match="unknown token"):
        _enrol(central, boot, layout)
    boot, layout = _gate(central, tmp_path / "c", "west", "g02", str(token))
    with pytest.raises(EnrolmentError, match=r"does not name east\.g02"):
        _enrol(central, boot, layout)


def test_a_used_token_serves_only_the_key_it_was_used_for(central: Central, tmp_path: Path) -> None:
    token = central.authority.issue_token("east", "g03", 3600)
    boot, layout = _gate(central, tmp_path / "first", "east", "g03", token)
    _enrol(central, boot, layout)
    certificate = (layout.etc / "device.crt").read_text()
    # The same board whose answer was lost (key kept, nothing written yet) gets it again.
    (layout.state_dir / "enrolment.json").unlink()
    boot, _ = _gate(central, tmp_path / "first", "east", "g03", token)
    _enrol(central, boot, layout)
    assert (layout.etc / "device.crt").read_text() == certificate
    # Another board with the same token is refused.
    boot, other = _gate(central, tmp_path / "second", "east", "g03", token)
    with pytest.raises(EnrolmentError, match="token already used"):
        _enrol(central, boot, other)


def test_a_replacement_board_revokes_the_old_board_s_certificate(
    central: Central, tmp_path: Path
) -> None:
    for board in ("old", "new"):
        token = central.authority.issue_token("east", "g05", 3600)
        boot, layout = _gate(central, tmp_path / board, "east", "g05", token)
        _enrol(central, boot, layout)
    issued = [g for g in central.authority.store.gates() if g.device_id == "east.g05"]
    assert [g.revoked_at is not None for g in issued] == [True, False]
    assert "user east.g05\n" in (central.dir / ACL).read_text()


def test_an_expired_token_is_refused(central: Central, tmp_path: Path) -> None:
    token = central.authority.issue_token("east", "g04", 60)
    boot, layout = _gate(central, tmp_path, "east", "g04", token)
    central.clock.now += 120
    try:
        with pytest.raises(EnrolmentError, match="token expired"):
            _enrol(central, boot, layout)
    finally:
        central.clock.now -= 120


def test_a_bad_boot_file_names_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "gate-edge-enrol.toml"
    path.write_text('site = "a b"\ncentral = "ftp://x"\ntoken = "nope"\ncolour = 1\n')
    with pytest.raises(EnrolmentError) as error:
        read_boot_file(path)
    for part in ("colour: unknown key", "site:", "gate: required", "central:", "token:"):
        assert part in str(error.value)
    assert "nope" not in str(error.value)


def test_a_central_nothing_answers_at_is_named_unreachable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    token = EnrolToken("0123456789abcdef", b"s" * 43)
    boot = BootFile(tmp_path / "boot.toml", "site-x", "g1", url, None, token, None)
    with pytest.raises(EnrolmentError, match=re.escape(f"central unreachable at {url}/enrol")):
        http_post(boot)(f"{url}/enrol", b"{}", {"content-type": "application/json"})


def _connects(broker: LocalBroker, ca: Path, cert: Path, key: Path) -> bool:
    answered, connected = threading.Event(), threading.Event()

    def on_connect(c: object, u: object, f: object, rc: object, p: object) -> None:
        if rc == 0:
            connected.set()
        answered.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{cert.parent.parent.name}")
    client.tls_set(ca_certs=str(ca), certfile=str(cert), keyfile=str(key))
    client.on_connect = on_connect
    client.on_disconnect = lambda *args: answered.set()
    client.on_connect_fail = lambda *args: answered.set()
    try:
        client.connect(broker.host, broker.port)
    except OSError:
        return False
    client.loop_start()
    try:
        answered.wait(10)
        return connected.is_set()
    finally:
        client.loop_stop()
        client.disconnect()


def test_a_revoked_gate_is_refused_by_the_broker_using_the_generated_crl(
    central: Central, tmp_path: Path
) -> None:
    layouts = {}
    for gate in ("g10", "g11"):
        token = central.authority.issue_token("north", gate, 3600)
        boot, layouts[gate] = _gate(central, tmp_path / gate, "north", gate, token)
        _enrol(central, boot, layouts[gate])
    assert central.authority.revoke("north.g11") == 1
    assert "user north.g11" not in (central.dir / ACL).read_text()
    broker_key = ec.generate_private_key(ec.SECP256R1())
    pki = tmp_path / "broker"
    pki.mkdir()
    (pki / "broker.key").write_bytes(
        broker_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (pki / "broker.crt").write_bytes(
        central.authority.ca.sign_server(
            broker_key.public_key(), ["127.0.0.1"], central.clock(), 30
        ).public_bytes(serialization.Encoding.PEM)
    )
    ca = central.dir / "ca.pem"
    broker = LocalBroker(
        pki,
        tls=True,
        allow_anonymous=False,
        extra_config=[
            f"cafile {ca}",
            f"certfile {pki / 'broker.crt'}",
            f"keyfile {pki / 'broker.key'}",
            "require_certificate true",
            "use_identity_as_username true",
            f"crlfile {central.dir / CRL}",
            f"acl_file {central.dir / ACL}",
        ],
    )
    broker.start()
    try:
        good, bad = layouts["g10"], layouts["g11"]
        assert _connects(broker, ca, good.etc / "device.crt", good.state_dir / "device.key")
        assert not _connects(broker, ca, bad.etc / "device.crt", bad.state_dir / "device.key")
    finally:
        broker.stop()


@given(body=st.binary(max_size=512), signature=st.one_of(st.none(), st.text(max_size=70)))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_request_gets_a_refusal_never_a_crash(
    central: Central, body: bytes, signature: str | None
) -> None:
    status, payload, headers = Enrolment(central.authority).answer(body, signature)
    assert status in (400, 403) and b"error" in payload and not headers


@given(body=st.binary(max_size=512), signature=st.one_of(st.none(), st.text(max_size=70)))
@settings(max_examples=150, deadline=None)
def test_any_bundle_that_is_not_central_s_is_an_enrolment_error(
    body: bytes, signature: str | None
) -> None:
    with pytest.raises(EnrolmentError):
        EnrolBundle.parse(body, signature, b"s" * 43, "0" * 32)


@given(text=st.text(max_size=300))
@settings(max_examples=150, deadline=None)
def test_any_boot_file_is_read_or_refused_with_an_enrolment_error(text: str) -> None:
    import tempfile  # noqa: PLC0415 - hypothesis forbids function-scoped tmp_path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gate-edge-enrol.toml"
        path.write_text(text, errors="surrogatepass")
        try:
            read_boot_file(path)
        except EnrolmentError as exc:
            assert str(path) in str(exc)


def test_the_commands_enrol_a_gate_and_manage_the_register(
    central: Central, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = ["--dir", str(central.dir)]
    assert central_main(["enrol", "token", *directory, "--site", "south", "--gate", "g1"]) == 0
    token = capsys.readouterr().out.strip()
    boot = central.boot_file(tmp_path / "boot", "south", "g1", token)
    gate = ["--boot-file", str(boot), "--config", str(tmp_path / "etc" / "gate-edge.toml")]
    gate += ["--state-dir", str(tmp_path / "state"), "--template", str(TEMPLATE)]
    assert edge_main(["enrol", *gate]) == 0
    assert "enrolled as south.g1" in capsys.readouterr().out
    assert edge_main(["enrol", *gate]) == 0  # the boot file is gone: already enrolled
    assert "already enrolled as south.g1" in capsys.readouterr().out
    assert central_main(["enrol", "list", *directory]) == 0
    assert "south.g1" in capsys.readouterr().out
    assert central_main(["enrol", "revoke", *directory, "south.g1"]) == 0
    assert central_main(["enrol", "revoke", *directory, "south.g1"]) == 1  # nothing left to revoke
    assert central_main(["enrol", "revoke", *directory, "no-dot"]) == 2
    lonely = ["--boot-file", str(tmp_path / "none.toml"), "--state-dir", str(tmp_path / "other")]
    assert edge_main(["enrol", *lonely]) == 2


def test_a_bundle_for_another_key_or_gate_is_refused(central: Central, tmp_path: Path) -> None:
    token = central.authority.issue_token("east", "g06", 3600)
    boot = read_boot_file(central.boot_file(tmp_path, "east", "g06", token))
    other = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "east.g06")]))
        .sign(other, hashes.SHA256())
    )
    cert = central.authority.ca.sign_gate(csr, "east.g06", central.clock(), 1)
    bundle = EnrolBundle(
        site="east",
        gate="g06",
        broker="mqtts://127.0.0.1:8883",
        certificate=cert.public_bytes(serialization.Encoding.PEM).decode(),
        ca=central.authority.ca.pem,
        trust_root=central.authority.trust_root,
        command_key=None,
        nonce="0" * 32,
    )
    mine = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(EnrolmentError, match="not for this gate's key"):
        check_bundle(bundle, boot, mine)
    with pytest.raises(EnrolmentError, match="not this gate"):
        check_bundle(replace(bundle, gate="g07"), boot, other)
    assert check_bundle(bundle, boot, other).serial_number == cert.serial_number
