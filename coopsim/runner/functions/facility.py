"""Unit functions of the facility-location experiments."""

from __future__ import annotations

import numpy as np

from coopsim.runner.functions._common import Out as _Out
from coopsim.runner.units import register_function


@register_function("facility_best_response", params=("n_agents", "mechanism", "reference"))
def facility_best_response(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """Exact Gauss-Seidel best-response dynamics (``coopsim.dynamics.best_response_dynamics``, one sweep
    per "round") from truthful reports on ``batch`` random instances of ``n_agents`` peaks under
    ``mechanism`` (default "average"); records ``abs_outcome_minus_reference`` = mean |f(r) - g(t)| with
    g = ``reference`` (default "uniform_phantom": every pure NE of the average rule places the
    facility at UP(t))."""
    from coopsim.dynamics import best_response_dynamics
    from coopsim.envs.facility_location import FacilityLocation
    from coopsim.mechanisms import get as get_mechanism

    game = FacilityLocation(n_agents=int(params.get("n_agents", 5)), mechanism=params.get("mechanism", "average"))
    ref = get_mechanism(params.get("reference", "uniform_phantom"))
    peaks = game.sample_types(np.random.default_rng(seed_sequence), batch)
    target = np.asarray(ref(peaks), dtype=np.float64)
    x = game.truthful_actions(peaks)
    rec: dict[str, list] = {"round": [], "abs_outcome_minus_reference": []}
    for s in range(1, rounds + 1):
        br = best_response_dynamics(game, peaks, init=x, max_sweeps=1)
        x = br.actions
        if s % record_every == 0 or s == rounds:
            rec["round"].append(s)
            rec["abs_outcome_minus_reference"].append(float(np.abs(br.outcome.location - target).mean()))
    return {k: np.asarray(v) for k, v in rec.items()}
