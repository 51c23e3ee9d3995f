"""Headless restoration core. Never imports Qt."""
