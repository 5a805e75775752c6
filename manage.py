#!/usr/bin/env python
"""Django's command-line utility; ``sogla`` is the same with a shorter name."""

import sys

from sogla.cli import main

if __name__ == "__main__":
    main(sys.argv[1:])
