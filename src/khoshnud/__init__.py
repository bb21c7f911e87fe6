"""Khoshnud: customer experience management for Persian, Chinese and English businesses."""

__version__ = "0.1.0"
