"""Start ci-tools from this repository's ``scripts/``, for the actions: ``PYTHON -I run_ci_tools.py ARGS``.

The actions run ci-tools with the caller's checkout (a pull request's files) as the working
directory. ``python -m ci_tools`` would put that directory first on ``sys.path``, so a
``ci_tools/__main__.py`` or a ``yaml.py`` of the pull request would run instead of ours; and
``PYTHONPATH``/``PYTHONUSERBASE`` left in the environment would bring in anything. With ``-I``
(isolated mode) Python ignores every ``PYTHON*`` variable and the user site directory and puts
neither the working directory nor this file's directory on ``sys.path``; this file then adds
exactly one directory, ``scripts/`` at the action's own commit, and nothing else. The ``PYTHON*``
variables are also dropped from the environment that ci-tools passes on: the tools it starts may be
Python too (actionlint's wrapper is a console script), and they must not read them either.
"""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    for name in [name for name in os.environ if name.startswith("PYTHON")]:
        del os.environ[name]
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "scripts"))
    from ci_tools.cli import entry

    entry()
