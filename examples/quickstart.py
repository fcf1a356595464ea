"""A first what-if with gmnet: run with `.venv/bin/python examples/quickstart.py`."""

import gmnet
from gmnet.analysis.whatif import neutral_context

net = gmnet.load_network()
context = {**neutral_context(net), "shift_type": "extreme", "spec_quality": "low"}

before = net.query("harm", do=context)["yes"]
after = net.query("harm", do={**context, "alignment_method": "interpretability_verified"})["yes"]
print(f"P(harm | do(extreme shift, low specification))            = {before:.3f}")
print(f"... and do(alignment_method=interpretability_verified)     = {after:.3f}")

# Observing is not intervening: what does observed harm say about the shift type?
posterior = net.query("shift_type", evidence={"harm": "yes"})
print("P(shift_type | harm=yes):", {k: round(v, 3) for k, v in posterior.items()})
