"""Renderings of the engine's results: JSON, tables, CSV, workbooks, statements."""
