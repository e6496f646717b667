"""What an action sees of the machine, over a real server: the runtime image's Python and
packages, its own virtualenv/ or requirements.txt, its own node_modules/; nothing of
localwhisk's own environment nor of the folders around it.

The server runs without a sandbox (``--isolation none``): there the machine is most in
reach, so what must not leak is tested where leaking is easiest. pip installs from a
wheel folder made here (``PIP_FIND_LINKS`` and ``PIP_NO_INDEX`` in the server's
environment, which it passes on): no network.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from localindex import GREETING, write_demo_wheel
from lw_client import NS, Client, unique
from serverprocess import GUEST_AUTH, ROOT, ServerProcess, start_server

from localwhisk.runtime import pythons, virtualenvs
from localwhisk.runtime.images import IMAGES

pytestmark = pytest.mark.integration

NO_BINARY = "The action failed to generate or locate a binary. See logs for details."
SERVER_MODULES = ("localwhisk", "deploy", "uvicorn", "orjson", "yaml", "jinja2", "hypothesis")
# Not scrapy: its 2.5.0 pin (3.9, 3.10 images) fails to import with the w3lib the
# image build resolves today, here as in an image built today.
IMAGE_MODULES = ("bs4", "lxml.etree", "requests", "twisted", "dateutil", "simplejson", "netifaces")
NODE = shutil.which("node")

PROBE = """
import importlib, sys
def main(args):
    found = {}
    for name in args["names"]:
        try:
            importlib.import_module(name)
            found[name] = True
        except ImportError:
            found[name] = False
    return {"found": found, "version": list(sys.version_info[:2]), "path": sys.path}
"""


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    write_demo_wheel(folder)
    return folder


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the server's data folder and, beside it, a node_modules/ and a
    Python module an action must not find."""
    root = tmp_path_factory.mktemp("around")
    leak = root / "node_modules" / "lwleak"
    leak.mkdir(parents=True)
    (leak / "index.js").write_text("module.exports = 'leaked';\n")
    return root


@pytest.fixture(scope="module")
def server(wheels: Path, outside: Path) -> Iterator[ServerProcess]:
    env = {
        **os.environ,
        "PIP_FIND_LINKS": str(wheels),
        "PIP_NO_INDEX": "1",
        # What an action must not see, though the server's environment has it.
        "NODE_PATH": str(ROOT / "tests" / "compat" / "node_modules"),
        "PYTHONPATH": str(ROOT),
    }
    started = start_server(outside / "data", "--isolation", "none", env=env)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def lw(server: ServerProcess) -> Iterator[Client]:
    client = Client(server.url, GUEST_AUTH)
    yield client
    client.session.close()


def deploy_and_invoke(
    api: Client, exec_: dict, params: dict | None = None, **extra: object
) -> dict:
    name = unique()
    put = api.put(f"{NS}/actions/{name}", {"exec": exec_, **extra})
    assert put.status_code == 200, put.text
    ran = api.post(f"{NS}/actions/{name}", params or {}, params={"blocking": "true"})
    assert ran.status_code in (200, 502), ran.text
    return ran.json()


def zipped(files: dict[str, str | bytes], folder: Path | None = None) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        if folder is not None:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    archive.write(path, path.relative_to(folder.parent).as_posix())
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@pytest.mark.parametrize(
    "kind", ["python:3", "python:3.9", "python:3.10", "python:3.11", "python:3.12"]
)
def test_each_python_kind_sees_its_image_packages_and_nothing_of_the_server(
    lw: Client, kind: str
) -> None:
    names = [*SERVER_MODULES, *IMAGE_MODULES]
    act = deploy_and_invoke(lw, {"kind": kind, "code": PROBE}, {"names": names})
    assert act["response"]["status"] == "success", act
    result = act["response"]["result"]
    assert result["found"] == {
        **dict.fromkeys(SERVER_MODULES, False),
        **dict.fromkeys(IMAGE_MODULES, True),
    }
    wanted = IMAGES[kind].python
    expected = wanted if pythons.find(wanted) else pythons.server().minor
    assert ".".join(map(str, result["version"])) == expected
    assert not [entry for entry in result["path"] if str(ROOT) in entry]


def test_the_server_says_at_start_which_python_serves_each_kind(server: ServerProcess) -> None:
    said = "".join(server.output)
    for kind, environment in virtualenvs.locate_all().items():
        if environment.exact and environment.built:
            assert f"{kind} on {environment.interpreter.dotted}" in said
        else:
            assert environment.describe() in said


def test_a_zip_virtualenv_made_by_the_virtualenv_tool_is_activated(
    lw: Client, tmp_path: Path
) -> None:
    environment = virtualenvs.locate_all()["python:3.11"]
    assert environment.built, "run `make runtimes`"
    venv = tmp_path / "virtualenv"
    subprocess.run(
        [*environment.argv()[:1], "-I", "-m", "virtualenv", "-q", "--no-seed", str(venv)],
        check=True,
        timeout=60,
    )
    (venv / "lib" / "python3.11" / "site-packages" / "vendored_lw.py").write_text(
        "import os\nVALUE = os.environ.get('VIRTUAL_ENV', '')\n"
    )
    main = "import vendored_lw\ndef main(args):\n    return {'venv': vendored_lw.VALUE}\n"
    act = deploy_and_invoke(
        lw, {"kind": "python:3.11", "binary": True, "code": zipped({"__main__.py": main}, venv)}
    )
    assert act["response"]["status"] == "success", act
    assert act["response"]["result"]["venv"].endswith("/virtualenv")


REQUIRES = "import lwdemo\ndef main(args):\n    return {'greeting': lwdemo.GREETING}\n"


def test_requirements_txt_without_virtualenv_is_installed_at_init(lw: Client) -> None:
    code = zipped({"__main__.py": REQUIRES, "requirements.txt": "lwdemo==1.0\n"})
    act = deploy_and_invoke(lw, {"kind": "python:3.11", "binary": True, "code": code})
    assert act["response"]["status"] == "success", act
    assert act["response"]["result"] == {"greeting": GREETING}
    init = [a for a in act["annotations"] if a["key"] == "initTime"]
    assert init and init[0]["value"] > 0  # the install is part of init, as on the platform


def test_a_requirement_pip_cannot_install_fails_init_with_the_runtimes_message(
    lw: Client,
) -> None:
    code = zipped({"__main__.py": REQUIRES, "requirements.txt": "lwmissing==9.9\n"})
    act = deploy_and_invoke(lw, {"kind": "python:3.11", "binary": True, "code": code})
    assert act["response"]["status"] == "action developer error"
    assert act["response"]["result"] == {"error": NO_BINARY}
    logs = "\n".join(act["logs"])
    assert "No matching distribution found for lwmissing==9.9" in logs


@pytest.fixture
def silent_index() -> Iterator[str]:
    """An HTTP address that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


def test_an_install_longer_than_the_timeout_ends_init_at_the_timeout(
    lw: Client, silent_index: str
) -> None:
    requirements = f"--find-links {silent_index}\nlwdemo==1.0\n"
    code = zipped({"__main__.py": REQUIRES, "requirements.txt": requirements})
    started = time.monotonic()
    act = deploy_and_invoke(
        lw, {"kind": "python:3.11", "binary": True, "code": code}, limits={"timeout": 2000}
    )
    took = time.monotonic() - started
    assert act["response"]["status"] == "action developer error"
    assert act["response"]["result"] == {
        "error": "The action exceeded its time limits of 2000 milliseconds during initialization."
    }
    assert took < 10, took  # pip alone would wait its own 15 s socket timeout, then retry


NODE_PROBE = """
function attempt(name) { try { return require(name) && true; } catch (e) { return false; } }
function main(params) {
  const out = {};
  for (const name of params.names) out[name] = attempt(name);
  out.own = require('lwown')();
  return out;
}
module.exports.main = main;
"""


@pytest.mark.skipif(NODE is None, reason="needs node on PATH")
def test_nodejs_requires_its_zips_node_modules_and_the_image_modules_only(lw: Client) -> None:
    code = zipped(
        {
            "index.js": NODE_PROBE,
            "package.json": json.dumps({"name": "probe", "main": "index.js"}),
            "node_modules/lwown/index.js": "module.exports = () => 'own module';\n",
        }
    )
    image = ["openwhisk", "serialize-error", "express", "redis", "uuid"]
    absent = ["lwleak", "@adobe/aio-cli-plugin-runtime", "aio-lib-runtime"]
    act = deploy_and_invoke(
        lw, {"kind": "nodejs:20", "binary": True, "code": code}, {"names": [*image, *absent]}
    )
    assert act["response"]["status"] == "success", act
    result = act["response"]["result"]
    assert result.pop("own") == "own module"
    assert result == {**dict.fromkeys(image, True), **dict.fromkeys(absent, False)}
