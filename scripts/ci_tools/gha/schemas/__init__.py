"""JSON schemas written for this organisation (GitHub's own come from check-jsonschema)."""
