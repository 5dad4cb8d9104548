"""genesys-sim: a harness that tells you whether your Genesys EventBridge consumer
loses or repeats work."""

__version__ = "0.1.0"
