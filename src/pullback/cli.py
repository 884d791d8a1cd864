"""The command line: ``python -m pullback show|export|cache|debug``.

The top layer: it loads the user's file, parses the options and calls the
same functions as the Python API (pullback.source, pullback.export,
pullback.cache_info, pullback.debug). (Foundation stub.)
"""
import argparse


def parser():
    """The argument parser of ``python -m pullback``."""
    main_parser = argparse.ArgumentParser(prog="python -m pullback",
                                          description="Read, export and debug derivatives.")
    main_parser.add_subparsers(dest="command", required=True)
    return main_parser


def main(argv=None):
    """Run the command ``argv`` (sys.argv[1:] by default); returns the exit status."""
    parser().parse_args(argv)
    return 0
