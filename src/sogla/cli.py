"""The ``sogla`` command: Django's management commands plus Sogla's own.

``sogla demo`` loads the demo organisation, ``sogla serve`` runs the web server.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sogla.settings.base")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["sogla", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
