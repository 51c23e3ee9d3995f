"""Model files: the catalog, the store, downloads, the safe loader, architectures."""
