"""gmnet: the source document's goal-misgeneralization model as an executable Bayesian network.

Ask the way the command line does (nodes the question does not mention are held at the
document's baseline, and the answer says so):

>>> import gmnet
>>> answer = gmnet.ask("P(harm=yes | shift_type=extreme)")
>>> round(answer.probability, 3)
0.277
>>> answer.statement()
'P(harm=yes | shift_type=extreme) = 27.7%'

``Network.query`` is the plain network operation (nothing held: the network's priors):

>>> net = gmnet.load_network()
>>> round(net.query("harm", evidence={"shift_type": "extreme"})["yes"], 4)
0.2244
"""

# first: Ctrl+C while the package loads is a clean exit for the gmnet command
from gmnet import _interrupt  # noqa: F401
from gmnet._version import __version__
from gmnet.analysis.ask import Answer, Resolved, answer, ask, resolve, with_interval
from gmnet.analysis.audit import AuditReport, audit
from gmnet.analysis.bounds import BoundsResult, bounds
from gmnet.analysis.compare import compare_question
from gmnet.analysis.counterfactual import Counterfactual, counterfactual
from gmnet.analysis.explain import Explanation, explain
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
from gmnet.inference.interop import to_pgmpy
from gmnet.inference.query import ENGINES
from gmnet.io.classic import classic_network
from gmnet.io.formats import export_network, import_network
from gmnet.io.ranges import with_uniform_cpt_ranges
from gmnet.io.yaml_writer import write_network_yaml
from gmnet.model.network import Network, bundled_networks, load_network, validate_file
from gmnet.model.parameters import Parameter
from gmnet.model.question import CONTEXT_POLICIES, Question, parse_question
from gmnet.model.scenarios import Scenario, apply, load_scenarios
from gmnet.model.soft_evidence import SoftFinding
from gmnet.model.worldviews import Worldview, apply_worldview, load_worldviews, worldview_diff
from gmnet.query_text import ParsedQuery, parse_query
from gmnet.report import build_report, write_report
from gmnet.viz import Diagram, draw

__all__ = [
    "__version__",
    "Answer",
    "AuditReport",
    "CONTEXT_POLICIES",
    "Counterfactual",
    "BoundsResult",
    "BreakEven",
    "Diagram",
    "ENGINES",
    "Explanation",
    "GmnetError",
    "ImpossibleEvidenceError",
    "InvalidArgumentError",
    "MitigationComparison",
    "Network",
    "NetworkFileError",
    "Parameter",
    "ParsedQuery",
    "Question",
    "PortfolioAnalysis",
    "QuerySyntaxError",
    "Resolved",
    "Scenario",
    "SensitivityResult",
    "SoftFinding",
    "TargetValue",
    "UncertaintyResult",
    "UnknownNameError",
    "VoiResult",
    "Worldview",
    "answer",
    "apply",
    "apply_worldview",
    "ask",
    "audit",
    "batched_posterior",
    "bounds",
    "break_even",
    "build_report",
    "bundled_networks",
    "classic_network",
    "compare_mitigations",
    "compare_question",
    "counterfactual",
    "draw",
    "explain",
    "export_network",
    "import_network",
    "load_network",
    "load_scenarios",
    "load_worldviews",
    "parse_query",
    "parse_question",
    "plan_query",
    "portfolio_analysis",
    "portfolio_draws",
    "resolve",
    "sensitivity",
    "to_pgmpy",
    "uncertainty",
    "uncertainty_model",
    "validate_file",
    "with_interval",
    "value_for_target",
    "value_of_information",
    "with_uniform_cpt_ranges",
    "worldview_diff",
    "write_network_yaml",
    "write_report",
]

