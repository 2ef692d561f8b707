"""The ``chainrule`` command."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="chainrule: a deep-learning framework built from the chain rule up.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("info", help="versions, devices and the BLAS NumPy uses")
    train = sub.add_parser(
        "train", help="train a recipe (not available yet: see the issue tracker)"
    )
    train.add_argument("recipe", nargs="?", default="digits-cnn")
    args = parser.parse_args(argv)
    if args.version:
        from chainrule import __version__

        print(f"chainrule {__version__}")
        return 0
    if args.command == "info":
        import numpy as np

        import chainrule

        print(
            f"chainrule {chainrule.__version__}, numpy {np.__version__}, "
            f"python {sys.version.split()[0]}"
        )
        print(f"cuda available: {chainrule.is_cuda_available()}")
        return 0
    if args.command == "train":
        # Unfinished on purpose: the data/training issue gives this command its job.
        print(
            "chainrule train: not implemented yet (training recipes land with the data and "
            "training issue)",
            file=sys.stderr,
        )
        return 2
    parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
