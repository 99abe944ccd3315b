"""Domain games (one module per domain), imported as ``coopsim.envs``.

``coopsim.envs.facility_location``, ``position_auction``, ``information_acquisition``,
``agent_economy`` and ``matrix_games``; each exposes its game or env class, ``make_batched_env``,
PettingZoo factories (``env``, ``raw_env``, ``parallel_env``) and Gymnasium views
(``gym_env``, ``gym_vector_env``).
"""
