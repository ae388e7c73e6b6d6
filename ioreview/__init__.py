"""ioreview: blinded imaging review and complication adjudication for clinical trials."""
__version__ = "0.1.0"
