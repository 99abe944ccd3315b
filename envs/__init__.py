"""Domain games (one module per domain), imported as ``coopsim.envs``."""
from coopsim.core.registry import Registry

#: environment name -> module path (constructors are imported lazily)
ENVIRONMENTS = {
    "FacilityLocation-v0": "coopsim.envs.facility_location",
    "PositionAuction-v0": "coopsim.envs.position_auction",
    "InformationAcquisition-v0": "coopsim.envs.information_acquisition",
    "AgentEconomy-v0": "coopsim.envs.agent_economy",
}

registry = Registry("environment")
