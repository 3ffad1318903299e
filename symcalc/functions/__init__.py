"""The functions a formula may call: one registry entry each, elementary and abstract."""
