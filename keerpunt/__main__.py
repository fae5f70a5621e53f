import sys

from keerpunt.cli import main

sys.exit(main())
