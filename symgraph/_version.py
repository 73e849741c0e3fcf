"""The version, in one place: the package, generated modules and the wheel (pyproject) read it here."""

__version__ = "0.1.0"
