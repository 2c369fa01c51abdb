"""Pure command layer: text in, replies out. Never imports nio."""
