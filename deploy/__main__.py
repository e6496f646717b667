"""``python -m deploy``: hands over to the command line."""

import sys

from deploy.cli import main

sys.exit(main())
