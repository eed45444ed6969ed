"""The container image, built and run for real (opt-in: ``FILROUGE_CONTAINER_TEST=1``).

It builds a local Debian base with ``mmdebstrap`` (so nothing is pulled from a
registry), builds ``deploy/Containerfile`` on it with ``--build-arg BASE=…``
and ``--format docker`` (the health check must survive), then, against
mastodon-mock on the host's loopback: ``check-config --online`` inside the
image, and one mention answered by the bot running in it.

Where the machine cannot run OCI containers (no cgroups, no setrlimit: some
sandboxes), the image is run with ``buildah run --isolation chroot``: the same
filesystem, user and entry point, without the runtime's confinement. The test
prints which one it used.

Needs root (or rootless podman), ``podman``, ``mmdebstrap``, and for the
fallback ``buildah``; the build installs the package's dependencies from the
package index, so it needs that index. The host's CA bundle and a pip.conf
pointing at it go into the local base, for a machine behind a proxy that
re-signs TLS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from mastodon_mock.testing import MockServer

from tests.conftest import BOT_TOKEN, eventually

ROOT = Path(__file__).resolve().parents[2]
BASE = "localhost/filrouge-base:bookworm"
IMAGE = "localhost/filrouge-test:latest"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.environ.get("FILROUGE_CONTAINER_TEST") != "1",
        reason="opt-in: FILROUGE_CONTAINER_TEST=1 (builds an image: minutes)",
    ),
    pytest.mark.skipif(
        not (shutil.which("podman") and shutil.which("mmdebstrap")),
        reason="needs podman and mmdebstrap (Debian: apt-get install podman mmdebstrap buildah)",
    ),
]


def sh(*command: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=check)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("base") / "base.tar"
    cert = "/etc/ssl/certs/ca-certificates.crt"
    hooks = []
    if Path(cert).exists():
        hooks += [
            f"--customize-hook=upload {cert} {cert}",
            f'--customize-hook=printf "[global]\\ncert = {cert}\\n" > "$1/etc/pip.conf"',
        ]
    sh(
        "mmdebstrap",
        "--variant=minbase",
        "--include=python3,python3-venv,ca-certificates,passwd",
        *hooks,
        "bookworm",
        str(base),
    )
    sh("podman", "import", str(base), BASE)
    build = ["podman", "build", "--format", "docker", "--network", "host"]
    build += ["--build-arg", f"BASE={BASE}", "-f", "deploy/Containerfile", "-t", IMAGE, str(ROOT)]
    done = sh(*build, check=False)
    if done.returncode != 0:
        # Without cgroups the default isolation cannot run the RUN steps.
        sh(*build[:2], "--isolation", "chroot", *build[2:])
    return IMAGE


@pytest.fixture(scope="module")
def runner(image: str) -> Callable[..., list[str]]:
    """The command line that runs the image with an environment and arguments."""
    probe = sh(
        "podman", "run", "--rm", "--network", "host", "--read-only", "--cap-drop", "all",
        "--memory", "256m", image, "--version", check=False,
    )  # fmt: skip
    if probe.returncode == 0:
        print("running the image with podman run (read-only root, no capabilities, 256 MB)")

        def podman(env: dict[str, str], *args: str) -> list[str]:
            flags = [f"--env={k}={v}" for k, v in env.items()]
            return [
                "podman", "run", "--rm", "--network", "host", "--read-only", "--cap-drop",
                "all", "--memory", "256m", "--tmpfs", "/data", *flags, image, *args,
            ]  # fmt: skip

        return podman
    if not shutil.which("buildah"):
        pytest.skip(f"podman cannot run containers here ({probe.stderr.strip()[:200]})")
    print(f"podman run failed ({probe.stderr.strip()[:120]}); using buildah run --isolation chroot")

    def buildah(env: dict[str, str], *args: str) -> list[str]:
        container = sh("buildah", "from", image).stdout.strip()
        containers.append(container)
        flags = [f"--env={k}={v}" for k, v in env.items()]
        return ["buildah", "run", "--isolation", "chroot", "--network", "host", *flags,
                container, "--", "filrouge", *args]  # fmt: skip

    return buildah


containers: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _remove_containers() -> Iterator[None]:
    yield
    for container in containers:
        sh("buildah", "rm", container, check=False)


def settings_env(server: MockServer) -> dict[str, str]:
    return {
        "FILROUGE_INSTANCE_URL": server.base_url,
        "FILROUGE_ACCESS_TOKEN": BOT_TOKEN,
        "FILROUGE_RESOLVE_HOSTS": "",
        "FILROUGE_POLL_INTERVAL": "1s",
    }


def test_the_image_keeps_its_health_check_and_its_user(image: str) -> None:
    found = json.loads(sh("podman", "image", "inspect", image).stdout)[0]
    # --format docker: the HEALTHCHECK is kept (an OCI image drops it)
    assert "healthz" in " ".join(found["Healthcheck"]["Test"])
    assert found["Config"]["User"] == "10001:10001"


def test_check_config_online_in_the_image(
    runner: Callable[..., list[str]], server: MockServer
) -> None:
    done = sh(*runner(settings_env(server), "check-config", "--online"), timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "token: @filrouge" in done.stdout
    assert "stream: websocket" in done.stdout and " up in " in done.stdout


def test_one_mention_one_reply_from_the_image(
    runner: Callable[..., list[str]], server: MockServer
) -> None:
    command = runner(settings_env(server), "run")
    bot = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        alice = server.client("alice")
        time.sleep(3)  # the bot starts: record, connect, stream
        mention = alice.status_post(
            "@filrouge https://app.flus.fr/links/1853382202557961738 des photos de spectacles"
        )
        replies = eventually(
            lambda: [
                s
                for s in alice.status_context(mention["id"])["descendants"]
                if s["account"]["acct"] == "filrouge"
            ],
            timeout=60,
        )
        time.sleep(2)
        assert len(replies) == 1
        assert len(alice.status_context(mention["id"])["descendants"]) == 1
    finally:
        bot.terminate()
        try:
            bot.wait(30)
        except subprocess.TimeoutExpired:
            bot.kill()
