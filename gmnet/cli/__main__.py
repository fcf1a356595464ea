import sys

from gmnet.cli import main

sys.exit(main())
