"""Running action code: the only package that spawns processes.

``contract`` is what the platform hands in (``RunJob``) and gets back (``RunOutcome``);
``kinds`` lists the runtimes; ``runner`` keeps warm processes in a ``pool``, speaks to
each through ``childio``, lays code out with ``codecache``, and turns what a process
did into the platform's result with ``outcomes``. ``sandbox`` wraps each launcher in bubblewrap where
the machine allows; ``launcher`` runs inside the child, on the interpreter and packages of
its kind's image (``pythons``, ``images``, ``virtualenvs``); ``initinstall`` is the
runtime's pip install of a zip's requirements.txt at init.
"""
