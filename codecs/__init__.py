"""Built-in codec plugins for compbench (installed as ``compbench_codecs``)."""
