"""Shared fixtures for the whole test suite."""

pytest_plugins = ["tests.fixtures_users"]
