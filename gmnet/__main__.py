"""``python -m gmnet``: the command line (the same as the ``gmnet`` command)."""

import sys

from gmnet.cli import main

if __name__ == "__main__":
    sys.exit(main())
