"""Test facilities for programs that use zkleader: nothing here runs in production."""
