"""Built-in metric plugins for compbench (installed as ``compbench_metrics``): metrics whose
reference implementation is a package of its own, installed with an extra. Each registers
through the ``register_metrics`` hook and imports only what the ``compbench`` package root
exports, as a third-party plugin would."""
