"""The classic benchmark networks (asia, alarm, child, ...) as gmnet networks, offline.

pgmpy's wheel carries the bnlearn repository's BIF files (``pgmpy/utils/example_models``); they
are read from the installed package, never downloaded. pgmpy 1.1's newer ``load_model`` fetches
from the Hugging Face hub instead, so gmnet does not use it.
"""

from __future__ import annotations

from functools import cache

from gmnet.errors import UnknownNameError
from gmnet.inference.pgmpy_backend import CLASSIC_NETWORKS as _BACKEND_NAMES
from gmnet.model.network import Network

__all__ = ["CLASSIC_NETWORKS", "classic_network", "probing_queries"]

#: Discrete networks bundled with pgmpy (bnlearn repository), small to large.
CLASSIC_NETWORKS = _BACKEND_NAMES

SOURCES = {
    "asia": "Lauritzen and Spiegelhalter (1988)",
    "cancer": "Korb and Nicholson (2010)",
    "earthquake": "Korb and Nicholson (2010)",
    "sachs": "Sachs et al. (2005)",
    "survey": "Scutari and Denis, Bayesian Networks: with Examples in R",
    "alarm": "Beinlich et al. (1989)",
    "barley": "Kristensen and Rasmussen (2002), a malting-barley model",
    "child": "Spiegelhalter and Cowell (1992)",
    "insurance": "Binder et al. (1997)",
    "mildew": "Jensen and Jensen (1996)",
    "water": "Jensen et al. (1989)",
    "hailfinder": "Abramson et al. (1996)",
    "hepar2": "Onisko (2003)",
    "win95pts": "the Windows 95 printer troubleshooting network",
}


def classic_network(name: str) -> Network:
    """A classic network by name, with one ``table`` CPT per node.

    >>> net = classic_network("asia")
    >>> len(net.variables), net.states("dysp")
    (8, ('yes', 'no'))
    """
    if name not in CLASSIC_NETWORKS:
        raise UnknownNameError("classic network", str(name), CLASSIC_NETWORKS)
    return _load(name)


@cache
def _load(name: str) -> Network:
    import gzip
    from importlib.resources import files

    from gmnet.io.bif import parse_bif
    from gmnet.io.importing import network_from_model
    from gmnet.io.parsed import to_model

    source = (f"imported from {name}.bif (bnlearn Bayesian network repository, bundled with "
              f"pgmpy); {SOURCES[name]}")
    ref = files("pgmpy") / "utils" / "example_models" / f"{name}.bif.gz"
    model = to_model(parse_bif(gzip.decompress(ref.read_bytes()).decode("utf-8")))
    return network_from_model(model, name=name, source=source,
                              title=f"{name} (bnlearn repository)",
                              path=f"<classic network {name}>")


def probing_queries(net: Network) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """Questions that reach across any network, as (target, evidence, do) triples, in order:

    0. a prior marginal of the last node;
    1. a diagnosis: the first node given the last and a middle node (needs most CPTs);
    2. an intervention: the last node with a non-ancestor of the intervened node observed and
       do() on an ancestor of the target that has parents;
    3. the middle node under that intervention.
    """
    first, last = net.variables[0], net.variables[-1]
    middle = net.variables[len(net.variables) // 2]
    ancestors = net.compiled.ancestors_of([last]) - {last}
    intervened = next(v for v in net.variables if v in ancestors and net.parents(v))
    observed = next(v for v in net.variables if v not in (intervened, last)
                    and v not in net.compiled.ancestors_of([intervened]))
    return [
        (last, {}, {}),
        (first, {last: net.states(last)[0], middle: net.states(middle)[-1]}, {}),
        (last, {observed: net.states(observed)[0]}, {intervened: net.states(intervened)[-1]}),
        (middle, {}, {intervened: net.states(intervened)[0]}),
    ]
