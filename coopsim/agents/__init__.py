"""Vectorised NumPy learners over (B copies, N agents, K actions).

Interface (see :class:`coopsim.agents.base.Learner`)::

    learner = Hedge(n_actions=K, batch=B, n_agents=N, utility_range=(lo, hi))
    a = learner.act(rng, context=None)                 # (B, N) int64
    learner.update(a, rewards, full=U, context=None)   # rewards (B, N); U (B, N, K) for full info
    learner.policy, learner.average_policy             # (B, N, K)
    learner.feedback                                   # "full" | "bandit" | "none"

``coopsim.agents.get(name, **params)`` builds a learner by registry name (``registry.names()``).
PyTorch policies live in ``coopsim.agents.torch`` and are never imported from here.
"""

from coopsim.agents.balanced_bidding import BalancedBiddingResult, balanced_bidding, balanced_bids, gsp_revenue
from coopsim.agents.base import Learner, get, registry
from coopsim.agents.baselines import Constant, Truthful, UniformRandom
from coopsim.agents.best_response import BestResponse
from coopsim.agents.exp3 import Exp3, Exp3IX
from coopsim.agents.fictitious_play import FictitiousPlay, SmoothFictitiousPlay
from coopsim.agents.hedge import Hedge, hedge_regret_bound
from coopsim.agents.policy_gradient import SoftmaxPolicyGradient
from coopsim.agents.q_learning import QLearning
from coopsim.agents.regret_matching import ConditionalRegretMatching, RegretMatching, RegretMatchingPlus
from coopsim.agents.stochastic_bandits import UCB1, EpsilonGreedy

__all__ = [
    "Learner",
    "registry",
    "get",
    "Hedge",
    "Exp3",
    "Exp3IX",
    "RegretMatching",
    "RegretMatchingPlus",
    "ConditionalRegretMatching",
    "FictitiousPlay",
    "SmoothFictitiousPlay",
    "BestResponse",
    "EpsilonGreedy",
    "UCB1",
    "QLearning",
    "SoftmaxPolicyGradient",
    "Truthful",
    "Constant",
    "UniformRandom",
    "hedge_regret_bound",
    "balanced_bidding",
    "balanced_bids",
    "gsp_revenue",
    "BalancedBiddingResult",
]
