"""Repairing damage in old photos: finding scratches and dust, and inpainting them."""
