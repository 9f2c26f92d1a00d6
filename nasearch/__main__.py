"""``python -m nasearch`` runs the CLI."""

import sys

from nasearch.cli import main

sys.exit(main())
