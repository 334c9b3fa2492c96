"""Built-in dataset adapters for compbench (installed as ``compbench_datasets``)."""
