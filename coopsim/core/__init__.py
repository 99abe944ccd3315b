"""Core contracts: games, batched environments, registries, seeding and validation."""

from coopsim.core.env import BatchedEnv, RepeatedGame
from coopsim.core.game import MechanismGame, Outcome
from coopsim.core.registry import Registry
from coopsim.core.seeding import config_hash, derived_seed, make_rng, seed_sequence, spawn_rngs
from coopsim.core.validation import check_size, check_sizes, memory_budget, set_memory_budget

__all__ = [
    "BatchedEnv",
    "MechanismGame",
    "Outcome",
    "RepeatedGame",
    "Registry",
    "config_hash",
    "derived_seed",
    "make_rng",
    "seed_sequence",
    "spawn_rngs",
    "check_size",
    "check_sizes",
    "memory_budget",
    "set_memory_budget",
]
