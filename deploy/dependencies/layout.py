"""The ``virtualenv/`` folder the Python runtime activates: where packages go, and the
``bin/activate_this.py`` it runs.

The runtime's launcher (apache/openwhisk-runtime-python
``core/python3ActionLoop/lib/launcher.py``) looks for ``./virtualenv`` in the action's
folder, and execs ``virtualenv/bin/activate_this.py`` with ``__file__`` set to that
path (a missing file fails the init). The script below does what pypa virtualenv's
does for a running interpreter: puts ``lib/pythonX.Y/site-packages`` first on
``sys.path`` (processing its ``.pth`` files), sets ``VIRTUAL_ENV`` and ``sys.prefix``
and puts ``bin`` on ``PATH``. Its paths are computed from ``__file__`` at run time, so
the folder works wherever the zip is unpacked.
"""

from __future__ import annotations

from pathlib import Path

ACTIVATE_THIS = '''\
"""Activate this virtualenv in the running interpreter: exec(open(this).read(), {"__file__": this}).

Written by owdeploy for the OpenWhisk Python runtime's launcher."""
import os
import site
import sys

try:
    here = os.path.abspath(__file__)
except NameError:
    raise AssertionError("exec this file with __file__ set to its path") from None

base = os.path.dirname(os.path.dirname(here))
os.environ["PATH"] = os.pathsep.join([os.path.join(base, "bin"), *os.environ.get("PATH", "").split(os.pathsep)])
os.environ["VIRTUAL_ENV"] = base
before = list(sys.path)
site.addsitedir(os.path.join(base, "lib", "python%d.%d" % sys.version_info[:2], "site-packages"))
added = [entry for entry in sys.path if entry not in before]
sys.path[:] = added + [entry for entry in sys.path if entry not in added]
sys.real_prefix = sys.prefix
sys.prefix = base
'''


def site_packages(root: Path, version: str) -> Path:
    """``<root>/virtualenv/lib/python3.11/site-packages`` for Python ``3.11``."""
    return root / "virtualenv" / "lib" / f"python{version}" / "site-packages"


def write_activate_this(root: Path) -> Path:
    path = root / "virtualenv" / "bin" / "activate_this.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ACTIVATE_THIS, encoding="utf-8")
    return path
