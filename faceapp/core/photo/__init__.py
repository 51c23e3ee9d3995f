"""Photos in and out: reading every common format, writing atomically."""
