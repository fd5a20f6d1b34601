"""The whole system, for the tests that follow contacts from intake to a staff search."""

from tests.e2e.conftest import system

__all__ = ["system"]
