"""The HTTP face of one instance (Flask application factory)."""

from .app import ElectionView, create_app

__all__ = ["ElectionView", "create_app"]
