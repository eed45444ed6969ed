"""deploy/: the systemd units pass ``systemd-analyze verify`` and keep their hardening;
the container files say what the README promises; the image's health check works."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ops.metrics import Health, Metrics
from bot.ops.server import OpsServer

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = ("filrouge.service", "filrouge@.service")
INSTALLED_EXEC = "/opt/filrouge/venv/bin/filrouge"


def directives(path: Path) -> dict[str, list[str]]:
    """``Section.Key`` → every value given (units may repeat a key)."""
    found: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        found.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return found


HARDENING = {
    "DynamicUser": "yes",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "PrivateMounts": "yes",
    "PrivateUsers": "yes",
    "SystemCallArchitectures": "native",
    # an empty bounding set: no capabilities at all
    "CapabilityBoundingSet": "",
    "Restart": "on-failure",
    "ExecReload": "/bin/kill -HUP $MAINPID",
    "Type": "notify",
    "NotifyAccess": "main",
    "RestartPreventExitStatus": "2 3",
    "UMask": "0077",
}


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize(("key", "value"), HARDENING.items())
def test_unit_hardening(unit: str, key: str, value: str) -> None:
    assert directives(DEPLOY / unit)[f"Service.{key}"] == [value]


@pytest.mark.parametrize("unit", UNITS)
def test_unit_runs_filrouge_with_limits_and_syscall_filter(unit: str) -> None:
    found = directives(DEPLOY / unit)
    assert found["Service.ExecStart"] == [f"{INSTALLED_EXEC} run"]
    assert "@system-service" in found["Service.SystemCallFilter"]
    assert re.fullmatch(r"\d+[KMG]", found["Service.MemoryMax"][0])
    assert found["Service.RestartSec"]
    assert found["Service.WatchdogSec"]
    assert found["Unit.After"] == ["network-online.target"]
    assert found["Install.WantedBy"] == ["multi-user.target"]


def test_single_unit_paths() -> None:
    found = directives(DEPLOY / "filrouge.service")
    assert found["Service.EnvironmentFile"] == ["/etc/filrouge/filrouge.env"]
    assert found["Service.StateDirectory"] == ["filrouge"]
    assert found["Service.WorkingDirectory"] == ["/var/lib/filrouge"]
    assert "FILROUGE_DB_PATH=/var/lib/filrouge/filrouge.sqlite3" in found["Service.Environment"]


def test_template_unit_separates_instances() -> None:
    found = directives(DEPLOY / "filrouge@.service")
    assert found["Service.EnvironmentFile"] == ["/etc/filrouge/%i.env"]
    assert found["Service.StateDirectory"] == ["filrouge/%i"]
    assert found["Service.WorkingDirectory"] == ["/var/lib/filrouge/%i"]
    assert found["Service.User"] == ["filrouge-%i"]
    assert "FILROUGE_DB_PATH=/var/lib/filrouge/%i/filrouge.sqlite3" in found["Service.Environment"]


def test_units_share_their_hardening() -> None:
    """The template must not drift from the single unit: same [Service] apart from paths."""
    single, template = (directives(DEPLOY / unit) for unit in UNITS)
    per_instance = {"Service.EnvironmentFile", "Service.StateDirectory", "Service.WorkingDirectory",
                    "Service.Environment", "Service.User"}  # fmt: skip
    for key in (single.keys() | template.keys()) - per_instance:
        if key.startswith("Service."):
            assert single.get(key) == template.get(key), key


# -- systemd-analyze verify --------------------------------------------------------

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None,
    reason="systemd-analyze not installed (Debian: apt-get install -y systemd)",
)


def filrouge_executable() -> Path:
    """The ``filrouge`` entry point of the environment running the tests."""
    found = shutil.which("filrouge", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(
            "the filrouge entry point is not installed in this environment (pip install -e .)"
        )
    return Path(found)


def verify(directory: Path, *units: str) -> list[str]:
    """Run ``systemd-analyze verify`` and return the lines it printed about our units.

    It exits 0 on most unit-file mistakes (an unknown key, a bad value is
    "ignoring"), so every line naming one of our files counts as a failure.
    """
    assert SYSTEMD_ANALYZE is not None
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", *(str(directory / unit) for unit in units)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_PAGER": ""},
        check=False,
    )
    output = (result.stdout + result.stderr).splitlines()
    ours = [line for line in output if "filrouge" in line]
    if result.returncode != 0:
        ours.append(f"exit status {result.returncode}")
    return ours


@pytest.fixture
def installed_units(tmp_path: Path) -> Iterator[Path]:
    """The units as installed, with ExecStart at this environment's real ``filrouge``.

    ``verify`` insists that ExecStart's binary exists; /usr/local/bin/filrouge
    usually does not on a test machine, so the copies point at the entry point
    of the virtual environment running the tests. Nothing else changes.
    """
    executable = filrouge_executable()
    for unit in UNITS:
        text = (DEPLOY / unit).read_text()
        assert f"ExecStart={INSTALLED_EXEC} run" in text
        (tmp_path / unit).write_text(
            text.replace(f"ExecStart={INSTALLED_EXEC} ", f"ExecStart={executable} ")
        )
    yield tmp_path


@needs_systemd
def test_systemd_analyze_verify_units(installed_units: Path) -> None:
    # The template is checked through an instance, as systemd would load it.
    assert verify(installed_units, "filrouge.service", "filrouge@essai-ia.service") == []


#: ``systemd-analyze security`` exposure, 0-100 (its "1.1 OK" is 11). Above 20
#: ("2.0") means a hardening directive was lost.
MAX_EXPOSURE = 20


@needs_systemd
@pytest.mark.parametrize("unit", ["filrouge.service", "filrouge@essai-ia.service"])
def test_systemd_security_exposure_stays_low(installed_units: Path, unit: str) -> None:
    assert SYSTEMD_ANALYZE is not None
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=true", f"--threshold={MAX_EXPOSURE}",
         "--no-pager", str(installed_units / unit)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if "Unknown option" in result.stderr or "unrecognized option" in result.stderr:
        pytest.skip("this systemd-analyze has no offline security analysis (systemd < 250)")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


@needs_systemd
@pytest.mark.parametrize(
    ("find", "replace"),
    [
        ("ProtectSystem=strict", "ProtectSystem=bogus"),  # a bad value is only "ignored"
        ("NoNewPrivileges=yes", "NoNewPrivilege=yes"),  # a typo'd key is only "ignored"
        ("/bin/kill -HUP", "/nonexistent/kill -HUP"),  # a missing binary
    ],
)
def test_verify_catches_mistakes(installed_units: Path, find: str, replace: str) -> None:
    """The check above is honest: the same run reports a broken copy of the unit."""
    unit = installed_units / "filrouge.service"
    unit.write_text(unit.read_text().replace(find, replace))
    assert verify(installed_units, "filrouge.service") != []


# -- container ---------------------------------------------------------------------


def containerfile() -> str:
    return (DEPLOY / "Containerfile").read_text()


def test_containerfile_promises() -> None:
    text = containerfile()
    # the base is an argument (a local base where the default cannot be pulled)
    assert re.search(r"^ARG BASE=docker\.io/library/python:3\.11-slim$", text, re.M)
    assert re.search(r"^FROM \$\{BASE\}$", text, re.M)
    # installed where the systemd units look
    assert "/opt/filrouge/venv/bin/pip install ." in text
    # a fixed uid and gid, not whatever the base assigns
    assert "groupadd --system --gid 10001 filrouge" in text
    assert "useradd --system --uid 10001 --gid 10001" in text
    user = re.findall(r"^USER (\S+)$", text, re.M)
    assert user == ["10001:10001"]
    assert re.search(r"^VOLUME /data$", text, re.M)
    assert "FILROUGE_DB_PATH=/data/filrouge.sqlite3" in text
    assert re.search(r'^ENTRYPOINT \["filrouge"\]$', text, re.M)
    assert re.search(r'^CMD \["run"\]$', text, re.M)
    # only the package goes into the image: never a .env or a database
    copies = re.findall(r"^COPY (.+)$", text, re.M)
    assert copies == ["pyproject.toml README.md ./", "bot ./bot"]


def healthcheck_command() -> list[str]:
    text = containerfile().replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])$", text, re.M)
    assert match, "no HEALTHCHECK CMD in exec form"
    command: list[str] = json.loads(match.group(1))
    return command


@pytest.mark.parametrize("healthy", [True, False])
def test_image_healthcheck_command_against_a_real_ops_server(healthy: bool) -> None:
    """Run the image's HEALTHCHECK command (with this Python) against /healthz."""
    command = healthcheck_command()
    assert command[0] == "python"
    health = Health(started_at=1000.0, stream_connected=healthy, last_event_at=1000.0)
    server = OpsServer(
        host="127.0.0.1", port=0, health=health, metrics=Metrics(), db_check=lambda: True,
        max_age=60.0, clock=lambda: 1010.0,
    )  # fmt: skip
    with server:
        result = subprocess.run(
            [sys.executable, *command[1:]],
            env={**os.environ, "FILROUGE_HTTP_PORT": str(server.port)},
            capture_output=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == (0 if healthy else 1)


def test_compose_file() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    assert "dockerfile: deploy/Containerfile" in text
    assert re.search(r"^\s+env_file:\n\s+- filrouge\.env$", text, re.M)
    assert re.search(r"^\s+- filrouge-data:/data$", text, re.M)
    assert re.search(r"^\s+restart: unless-stopped$", text, re.M)
    assert re.search(r"^\s+healthcheck:$", text, re.M)
    # the compose health check runs the same command as the image's
    assert healthcheck_command()[-1] in text
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:  # PyYAML is not a dependency; the checks above stand alone
        return
    service = yaml.safe_load(text)["services"]["filrouge"]
    assert service["healthcheck"]["test"] == ["CMD", *healthcheck_command()]
    assert service["cap_drop"] == ["ALL"]


def test_readme_covers_each_way() -> None:
    text = (DEPLOY / "README.md").read_text()
    for needle in (
        "filrouge register",
        "systemctl enable --now filrouge",
        "filrouge@",
        "/etc/filrouge/NAME.env",
        "podman build --format docker -f deploy/Containerfile",
        "docker compose up",
        "systemctl reload filrouge",
        "/healthz",
        "/metrics",
        "ExecStart",
    ):
        assert needle in text, needle
