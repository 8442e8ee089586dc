"""reviewtool: review Linux-kernel-style patch series the way a maintainer would."""

__version__ = "0.1.0"
