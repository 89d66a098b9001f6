"""KV-1 golden reference models (numpy / plain Python, bit-exact, seeded)."""
