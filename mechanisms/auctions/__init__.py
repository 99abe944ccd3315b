"""Position auctions: GSP, VCG, generalized first price, single-item first/second price, Myerson,
and VCG for sponsored creatives inside AI-generated content.

- :mod:`~coopsim.mechanisms.auctions.rules`: the mechanisms, called ``mech(bids, ctr)`` on a batch;
- :mod:`~coopsim.mechanisms.auctions.solvers`: matching and click-model solvers (additive, MNL,
  cascade) for the AIGC model;
- :mod:`~coopsim.mechanisms.auctions.equilibria`: envy-free / EOS and Varian bids, Nash checks,
  first-price Bayes–Nash bids (Edelman, Ostrovsky & Schwarz, AER 2007; Varian, IJIO 2007);
- :mod:`~coopsim.mechanisms.auctions.myerson`: value distributions, virtual values and ironing
  (Myerson, MOR 1981).

Everything public in those modules is importable from here.
"""

from coopsim.mechanisms.auctions import equilibria, myerson, rules, solvers  # noqa: F401  (submodules as attributes)
from coopsim.mechanisms.auctions.rules import *  # noqa: F403

__all__ = list(rules.__all__)
