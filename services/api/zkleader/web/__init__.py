"""The HTTP face of one instance (Flask application factory)."""

from .app import create_app
from .view import ElectionView

__all__ = ["ElectionView", "create_app"]
