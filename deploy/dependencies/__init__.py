"""An action's third-party dependencies, built for the runtime it will run on.

An action folder with ``requirements.txt`` (or ``pyproject.toml`` ``[project]
dependencies``) gets a ``virtualenv/`` holding wheels for the kind's Python version on
Linux x86_64 (manylinux), with the ``virtualenv/bin/activate_this.py`` the Python
runtime's launcher execs; a Node.js folder with ``package.json`` dependencies and no
``node_modules/`` gets them from its lockfile (``npm ci --omit=dev``). Each build is
cached by its spec's bytes, the target kind and platform, and the action's zip by that
key and the action's own code, so an unchanged redeploy builds and zips nothing.

    spec      reads and checks the spec files (pure: validate's part)
    target    kind -> Python version, ABI and platform tags, or Node.js major
    cache     where builds and zips are kept, keys, atomic stores
    python    pip runs for the target (the only code here that starts pip)
    nodejs    npm ci (the only code here that starts npm)
    layout    the virtualenv's activate_this.py and folder layout
    packing   spec + cache + build + the action's own files -> its Artifact
"""
