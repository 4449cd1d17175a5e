"""Run the command-line interface as ``python -m dualdiff``."""

from dualdiff.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
