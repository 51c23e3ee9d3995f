"""Colour for black-and-white photos: detecting them and colorizing them (DDColor)."""
