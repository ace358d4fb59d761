"""The ``run.py`` command line: argument parsing and printing only; work happens in ``engine``."""
