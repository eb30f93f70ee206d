"""Tuna: instruction tuning with probabilistic and contextual ranking (arXiv 2310.13385)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tuna")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"
