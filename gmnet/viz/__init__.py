"""Pictures of a network and its analyses: the pathway diagram (Graphviz), plots (matplotlib),
and how both show up in Jupyter.

Graphviz and matplotlib are imported only when something is drawn: gmnet works without them,
and drawing says what to install.
"""

from gmnet.viz.diagram import Diagram, DotNotFoundError, draw, node_marginals
from gmnet.viz.notebook import register_formatters
from gmnet.viz.posteriors import Posteriors, posteriors

__all__ = ["Diagram", "DotNotFoundError", "Posteriors", "draw", "node_marginals", "posteriors"]

register_formatters()  # inside IPython: results show as tables; elsewhere: nothing
