"""The IR: NIR's node vocabulary as frozen dataclasses, and the graph that holds them."""
from .graph import Edge, Graph, execution_order, flatten, population_count, synapse_count
from .nodes import (NODE_TYPES, Affine, AvgPool2d, Conv1d, Conv2d, CubaLI, CubaLIF, Delay,
                    Flatten, I, IF, Input, LI, LIF, Linear, Neuron, Node, Output, Scale,
                    SumPool2d, Threshold)
from .shapes import output_shape

__all__ = [
    "Edge", "Graph", "execution_order", "flatten", "population_count", "synapse_count",
    "NODE_TYPES", "Affine", "AvgPool2d", "Conv1d", "Conv2d", "CubaLI", "CubaLIF", "Delay",
    "Flatten", "I", "IF", "Input", "LI", "LIF", "Linear", "Neuron", "Node", "Output", "Scale",
    "SumPool2d", "Threshold", "output_shape",
]
