"""Allows ``python -m tui_transformer`` (and ``torchrun -m tui_transformer``)."""

from tui_transformer.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
