"""python -m autograd <command>: see autograd.cli."""
import sys

from autograd.cli import main

sys.exit(main())
