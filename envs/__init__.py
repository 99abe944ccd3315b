"""Domain games (one module per domain), imported as ``coopsim.envs``.

``coopsim.envs.facility_location``, ``position_auction``, ``information_acquisition``,
``agent_economy`` and ``matrix_games``; each exposes its game or env class, ``make_batched_env``,
PettingZoo factories (``env``, ``raw_env``, ``parallel_env``) and Gymnasium views
(``gym_env``, ``gym_vector_env``).
"""

import importlib as _importlib
import importlib.util as _importlib_util
from typing import Any as _Any


def __getattr__(name: str) -> _Any:
    """``coopsim.envs.<module>`` on first access (PEP 562), so ``import coopsim.envs`` stays light."""
    if not name.startswith("_") and _importlib_util.find_spec(f"{__name__}.{name}") is not None:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
