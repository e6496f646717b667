"""A package index made in the test, so dependency builds need no network.

``write_demo_wheel(folder)`` writes one pure wheel for localwhisk's install at init;
``python_index(folder)`` writes a flat pip index (``--find-links`` + ``--no-index``):
``purelib`` (a pure-Python wheel), ``fastsum`` (a C extension compiled here with gcc
against this interpreter and tagged ``cp3X-cp3X-manylinux_2_17_x86_64.manylinux2014_x86_64``,
as auditwheel would tag a wheel built on an old-enough glibc), ``puresrc`` (a source
distribution only, pure Python, with an in-tree build backend that needs nothing
installed), ``nativesrc`` (a source distribution whose wheel is tagged for this machine
only), ``envprobe`` (a source distribution whose build records the credential-like
environment variables it saw) and ``winonly`` (a wheel for Windows only). ``node_packages(folder)`` packs npm
tarballs with ``npm pack`` and ``node_action(folder, ...)`` writes an action whose
lockfile resolves them as ``file:`` tarballs, which ``npm ci`` installs offline.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from pathlib import Path

PY = f"cp{sys.version_info[0]}{sys.version_info[1]}"
KIND = f"python:{sys.version_info[0]}.{sys.version_info[1]}"  # the kind localwhisk runs here
MANYLINUX = "manylinux_2_17_x86_64.manylinux2014_x86_64"

FASTSUM_C = r"""
#include <Python.h>
static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
    return PyLong_FromLong(a + b);
}
static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "a + b, in C"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fastsum", NULL, -1, methods};
PyMODINIT_FUNC PyInit_fastsum(void) { return PyModule_Create(&module); }
"""

# An in-tree PEP 517 backend: writes the wheel with zipfile, so building needs no setuptools.
BACKEND = """
import base64, hashlib, os, zipfile
NAME, VERSION, TAG, MODULE = {name!r}, "1.0", {tag!r}, {module!r}

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    stem = f"{{NAME}}-{{VERSION}}"
    path = os.path.join(wheel_directory, f"{{stem}}-{{TAG}}.whl")
    files = {{
        f"{{NAME}}.py": MODULE,
        f"{{stem}}.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\n",
        f"{{stem}}.dist-info/WHEEL": f"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: {{TAG}}\\n",
    }}
    # "@ENV@" in a module becomes the credential-like variables the build could see.
    seen = sorted(k for k in os.environ if k.upper().startswith(("WHISK_", "AIO_", "__OW_")))
    files[f"{{NAME}}.py"] = MODULE.replace("@ENV@", repr(seen))
    record = []
    with zipfile.ZipFile(path, "w") as z:
        for arc, text in files.items():
            data = text.encode()
            z.writestr(arc, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{{arc}},sha256={{digest}},{{len(data)}}")
        record.append(f"{{stem}}.dist-info/RECORD,,")
        z.writestr(f"{{stem}}.dist-info/RECORD", "\\n".join(record) + "\\n")
    return os.path.basename(path)
"""


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(folder: Path, name: str, tag: str, files: dict[str, bytes]) -> Path:
    stem = f"{name}-1.0"
    info = f"{stem}.dist-info"
    purelib = "true" if tag.endswith("none-any") else "false"
    files = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
        f"{info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: localindex\nRoot-Is-Purelib: {purelib}\n"
            + "".join(f"Tag: {PY}-{PY}-{p}\n" for p in tag.split("-")[2].split("."))
            if purelib == "false"
            else f"Wheel-Version: 1.0\nGenerator: localindex\nRoot-Is-Purelib: true\nTag: {tag}\n"
        ).encode(),
    }
    record = "".join(f"{arc},{_digest(data)},{len(data)}\n" for arc, data in files.items())
    record += f"{info}/RECORD,,\n"
    path = folder / f"{stem}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for arc, data in sorted(files.items()):
            archive.writestr(arc, data)
        archive.writestr(f"{info}/RECORD", record)
    return path


def write_sdist(folder: Path, name: str, tag: str, module: str) -> Path:
    stem = f"{name}-1.0"
    files = {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n',
        "backend.py": BACKEND.format(name=name, tag=tag, module=module),
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
    }
    path = folder / f"{stem}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for arc, text in files.items():
            data = text.encode()
            member = tarfile.TarInfo(f"{stem}/{arc}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return path


def compile_fastsum(work: Path) -> bytes:
    """The C extension's shared object, built with the machine's gcc for this interpreter."""
    source = work / "fastsum.c"
    source.write_text(FASTSUM_C)
    target = work / f"fastsum{sysconfig.get_config_var('EXT_SUFFIX')}"
    include = sysconfig.get_paths()["include"]
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O2", f"-I{include}", str(source), "-o", str(target)],
        check=True,
        capture_output=True,
    )
    return target.read_bytes()


def python_index(folder: Path) -> Path:
    """Write the flat index into ``folder`` (made if missing) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / ".work"
    work.mkdir(exist_ok=True)
    shared = compile_fastsum(work)
    write_wheel(
        folder,
        "fastsum",
        f"{PY}-{PY}-{MANYLINUX}",
        {f"fastsum{sysconfig.get_config_var('EXT_SUFFIX')}": shared},
    )
    write_wheel(
        folder,
        "purelib",
        "py3-none-any",
        {"purelib/__init__.py": b"def greet(who):\n    return f'hello, {who}'\n"},
    )
    write_wheel(folder, "winonly", f"{PY}-{PY}-win_amd64", {"winonly.py": b"X = 1\n"})
    write_sdist(folder, "puresrc", "py3-none-any", "ANSWER = 42\n")
    # Built on the deploying machine: records what of its environment the build saw.
    write_sdist(folder, "envprobe", "py3-none-any", "SEEN = @ENV@\n")
    write_sdist(folder, "nativesrc", f"{PY}-{PY}-linux_x86_64", "X = 1\n")
    shutil.rmtree(work)
    return folder


def pip_env(index: Path) -> dict[str, str]:
    """pip pointed at the local index only."""
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(index), "PIP_CONFIG_FILE": os.devnull}


def python_action(folder: Path, requirements: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requirements.txt").write_text(requirements)
    (folder / "__main__.py").write_text(
        textwrap.dedent(
            """\
            import importlib.util

            import fastsum
            import purelib
            import puresrc


            def main(args):
                return {
                    "sum": fastsum.add(int(args.get("a", 2)), int(args.get("b", 3))),
                    "greeting": purelib.greet(args.get("who", "world")),
                    "answer": puresrc.ANSWER,
                    "compiled": fastsum.__file__.endswith(".so"),
                    "build_saw": (
                        __import__("envprobe").SEEN if importlib.util.find_spec("envprobe") else None
                    ),
                }
            """
        )
    )
    return folder


def node_packages(folder: Path) -> dict[str, Path]:
    """``npm pack`` two packages into ``folder``: name -> tarball."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = {
        "padstart-lite": "module.exports = (s, n, c = ' ') => String(s).padStart(n, c);\n",
        "devonly-lite": "module.exports = 'only for development';\n",
    }
    out = {}
    for name, code in sources.items():
        source = folder / f"src-{name}"
        source.mkdir(exist_ok=True)
        (source / "package.json").write_text(
            json.dumps({"name": name, "version": "1.0.0", "main": "index.js", "license": "MIT"})
        )
        (source / "index.js").write_text(code)
        packed = subprocess.run(
            ["npm", "pack", "--silent", "--pack-destination", str(folder), str(source)],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, **npm_env(folder)},
        )
        out[name] = folder / packed.stdout.strip().splitlines()[-1]
    return out


def npm_env(folder: Path) -> dict[str, str]:
    """npm with its cache in the test's folder and no registry to reach."""
    return {
        "npm_config_cache": str(folder / ".npm-cache"),
        "npm_config_offline": "true",
        "npm_config_update_notifier": "false",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
    }


def node_action(folder: Path, tarballs: dict[str, Path], *, lock: bool = True) -> Path:
    """A Node.js action requiring padstart-lite (devonly-lite a devDependency), with a
    lockfile written by npm itself (``--package-lock-only``) unless ``lock`` is false."""
    folder.mkdir(parents=True, exist_ok=True)
    package = {
        "name": "pad-action",
        "version": "1.0.0",
        "main": "index.js",
        "dependencies": {"padstart-lite": f"file:{tarballs['padstart-lite']}"},
        "devDependencies": {"devonly-lite": f"file:{tarballs['devonly-lite']}"},
    }
    (folder / "package.json").write_text(json.dumps(package, indent=2))
    (folder / "index.js").write_text(
        "const pad = require('padstart-lite');\n"
        "function main(args) {\n"
        "  let dev = 'absent';\n"
        "  try { require('devonly-lite'); dev = 'present'; } catch (e) {}\n"
        "  return { padded: pad(args.n || 7, 3, '0'), dev };\n"
        "}\n"
        "exports.main = main;\n"
    )
    if lock:
        subprocess.run(
            ["npm", "install", "--package-lock-only", "--silent"],
            cwd=folder,
            check=True,
            capture_output=True,
            env={**os.environ, **npm_env(folder.parent)},
        )
    return folder


WHEEL = "lwdemo-1.0-py3-none-any.whl"  # what write_demo_wheel writes
GREETING = "from a wheel"


def write_demo_wheel(folder: Path) -> Path:
    """``lwdemo`` 1.0, pure Python, in ``folder`` (for localwhisk's install at init)."""
    path = write_wheel(
        folder,
        "lwdemo",
        "py3-none-any",
        {"lwdemo/__init__.py": f"GREETING = {GREETING!r}\n".encode()},
    )
    assert path.name == WHEEL
    return path
