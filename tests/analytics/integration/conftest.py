"""The five services as processes, for the month of traffic sent through their public ways in."""

from tests.e2e.conftest import system

__all__ = ["system"]
