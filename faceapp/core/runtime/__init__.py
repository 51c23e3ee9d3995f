"""Where and how models run: the device and the engine that owns the loaded models."""
