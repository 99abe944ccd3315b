"""Core contracts: games, batched environments, registries, seeding and validation."""

from coopsim.core.env import BatchedEnv, RepeatedGame
from coopsim.core.game import MechanismGame, Outcome
from coopsim.core.registry import Registry
from coopsim.core.seeding import config_hash, derived_seed, make_rng, seed_sequence, spawn_rngs

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
]
