"""govnet: roll out and watch a city's government networks from one YAML inventory."""

__version__ = "0.1.0"
