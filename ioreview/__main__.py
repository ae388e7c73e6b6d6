import sys

from ioreview.cli import main

sys.exit(main())
