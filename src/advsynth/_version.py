"""The package version, in a module of its own so that modules can name it without importing
the package (whose ``__init__`` imports them)."""

__version__ = "0.1.0"
