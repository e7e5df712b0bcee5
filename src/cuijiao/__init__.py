"""cuijiao (催缴): collect property fees and arrears, lawfully and on the record."""

__version__ = "0.1.0"
