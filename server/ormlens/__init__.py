"""ormlens: finds ORM performance bugs in Python code without importing it."""

__version__ = "0.1.0"
