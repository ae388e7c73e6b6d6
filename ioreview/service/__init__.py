"""The service layer: every use case with the acting user (role and blinding checks, one
transaction, an audit record, a typed result).  The CLI and the UI both call it."""
from __future__ import annotations

from ioreview.trial import *  # noqa: F401,F403  (transitional: trial.py is being split here)
from ioreview.trial import __all__  # noqa: F401
