"""news-monitor: scheduled news monitoring that tells a person, fast and once, when their news happens."""

__version__ = "0.1.0"
