"""Faces in a photo: detection, choice, alignment, parsing and paste-back."""
