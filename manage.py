#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path


def make_sqlite_directory():
    """Create the SQLite file's directory, so that every command works on a fresh checkout."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and str(database["NAME"]) != ":memory:":
        Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "topbox.settings")
    from django.core.management import execute_from_command_line

    make_sqlite_directory()
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
