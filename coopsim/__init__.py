"""coopsim: multi-agent mechanism-design simulation.

Batched one-shot games and stateful environments, mechanism plugins, vectorised learners,
incentive and fairness audits, and a sweep runner. ``import coopsim`` registers the Gymnasium ids
``coopsim/<Name>-v0``.
"""

__version__ = "0.1.0"

from coopsim.interop.registration import register_envs as _register_envs  # noqa: E402

_register_envs()
