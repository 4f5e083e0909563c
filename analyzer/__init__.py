"""rcucheck's machinery: frontend, lowering, engine, API model, reporting and CLI."""

__version__ = "0.1.0"
