"""What is wrong with a protocol file: the problem record and the exception that carries them.

Kept apart from `adjudication.protocol` so that code which only reports or catches a rejected
protocol (the error types of the service and the command line) does not load the parser.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProtocolProblem:
    """One thing wrong with a protocol file: line (1-based, None if unknown), field path, message."""

    line: int | None
    path: str
    message: str

    def format(self, source: str = "<string>") -> str:
        """`source:line: path: message`, leaving out what is unknown."""
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class InvalidProtocol(Exception):
    """A protocol file was rejected; `problems` lists everything found, in file order."""

    def __init__(self, source: str, problems: list[ProtocolProblem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(p.format(source) for p in self.problems))
