"""Agent-based simulation of regional strategic alignment in East Asia.

Does Beijing's own coercion drive Japan (and Southeast Asia) away from what Beijing wants?
The package turns that causal claim into a Mesa model with counterfactual switches for each
driver. Start with :func:`sim.model.simulate` or the command line ``python -m sim``.
"""

__version__ = "0.1.0"
