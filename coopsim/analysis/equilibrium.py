"""Placeholder: equilibrium gaps for normal-form games (filled in by the learners issue)."""


def exploitability(game, policy):  # pragma: no cover - replaced
    raise NotImplementedError


def nash_conv(game, policy):  # pragma: no cover - replaced
    raise NotImplementedError


def ce_gap(game, joint):  # pragma: no cover - replaced
    raise NotImplementedError
