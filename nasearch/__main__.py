"""``python -m nasearch`` runs the CLI."""

import sys

from nasearch.cli.main import main

sys.exit(main())
