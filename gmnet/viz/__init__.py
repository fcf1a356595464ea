"""Pictures of a network and its analyses: the pathway diagram (Graphviz), plots (matplotlib),
and how both show up in Jupyter.

Graphviz and matplotlib are imported only when something is drawn: gmnet works without them,
and drawing says what to install.
"""

from gmnet.viz.diagram import Diagram, DotNotFoundError, draw, node_marginals
from gmnet.viz.notebook import register_formatters

__all__ = ["Diagram", "DotNotFoundError", "draw", "node_marginals"]

register_formatters()  # inside IPython: results show as tables; elsewhere: nothing
