"""gmnet: the source document's goal-misgeneralization model as an executable Bayesian network.

>>> import gmnet
>>> net = gmnet.load_network()
>>> round(net.query("harm", do={"shift_type": "extreme", "spec_quality": "medium",
...     "capability_level": "human_level", "training_diversity": "moderate",
...     "alignment_method": "standard"})["yes"], 3)
0.277
"""

from gmnet.analysis.audit import AuditReport, audit
from gmnet.analysis.bounds import BoundsResult, bounds
from gmnet.analysis.mitigations import MitigationComparison, compare_mitigations
from gmnet.analysis.portfolios import PortfolioAnalysis, portfolio_analysis
from gmnet.analysis.sensitivity import SensitivityResult, sensitivity
from gmnet.analysis.thresholds import BreakEven, TargetValue, break_even, value_for_target
from gmnet.analysis.uncertainty import (
    UncertaintyResult,
    portfolio_draws,
    uncertainty,
    uncertainty_model,
)
from gmnet.analysis.voi import VoiResult, value_of_information
from gmnet.errors import (
    GmnetError,
    ImpossibleEvidenceError,
    InvalidArgumentError,
    NetworkFileError,
    QuerySyntaxError,
    UnknownNameError,
)
from gmnet.inference.batched import batched_posterior, plan_query
from gmnet.inference.query import ENGINES
from gmnet.io.classic import classic_network
from gmnet.io.formats import export_network, import_network
from gmnet.io.ranges import with_uniform_cpt_ranges
from gmnet.io.yaml_writer import write_network_yaml
from gmnet.model.network import Network, bundled_networks, load_network, validate_file
from gmnet.model.parameters import Parameter
from gmnet.model.scenarios import Scenario, apply, load_scenarios
from gmnet.model.worldviews import Worldview, apply_worldview, load_worldviews, worldview_diff
from gmnet.query_text import ParsedQuery, parse_query
from gmnet.report import build_report, write_report
from gmnet.viz import Diagram, draw

__all__ = [
    "AuditReport",
    "BoundsResult",
    "BreakEven",
    "Diagram",
    "ENGINES",
    "GmnetError",
    "ImpossibleEvidenceError",
    "InvalidArgumentError",
    "MitigationComparison",
    "Network",
    "NetworkFileError",
    "Parameter",
    "ParsedQuery",
    "PortfolioAnalysis",
    "QuerySyntaxError",
    "Scenario",
    "SensitivityResult",
    "TargetValue",
    "UncertaintyResult",
    "UnknownNameError",
    "VoiResult",
    "Worldview",
    "apply",
    "apply_worldview",
    "audit",
    "batched_posterior",
    "bounds",
    "break_even",
    "build_report",
    "bundled_networks",
    "classic_network",
    "compare_mitigations",
    "draw",
    "export_network",
    "import_network",
    "load_network",
    "load_scenarios",
    "load_worldviews",
    "parse_query",
    "plan_query",
    "portfolio_analysis",
    "portfolio_draws",
    "sensitivity",
    "uncertainty",
    "uncertainty_model",
    "validate_file",
    "value_for_target",
    "value_of_information",
    "with_uniform_cpt_ranges",
    "worldview_diff",
    "write_network_yaml",
    "write_report",
]

__version__ = "0.1.0"
