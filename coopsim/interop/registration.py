"""Placeholder registration (replaced below)."""


def register_envs() -> None:
    return None
