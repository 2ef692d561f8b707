"""Tools that make backpropagation visible.

* :func:`draw_graph` - the computation graph as DOT, Mermaid, SVG or PNG.
* :func:`explain_backward` - run backward and record every node's local rule, upstream
  gradient and the gradients it sends on.
* :func:`jacobian_table` - a Jacobian as a labelled table (the matrix backprop never builds).
* :mod:`chainrule.edu.plots` - activations and derivatives, decision boundaries, training
  curves, per-layer statistics (matplotlib, imported only when a plot is made).
"""

from chainrule.edu import plots
from chainrule.edu.explain import BackwardStep, BackwardTrace, explain_backward
from chainrule.edu.graph import Graph, draw_graph
from chainrule.edu.jacobian import jacobian_table
from chainrule.edu.plots import (
    LayerStatsRecorder,
    plot_activations,
    plot_decision_boundary,
    plot_layer_stats,
    plot_training,
)

__all__ = [
    "BackwardStep",
    "BackwardTrace",
    "Graph",
    "draw_graph",
    "explain_backward",
    "jacobian_table",
    "LayerStatsRecorder",
    "plot_activations",
    "plot_decision_boundary",
    "plot_layer_stats",
    "plot_training",
    "plots",
]
