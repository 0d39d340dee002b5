"""ci-tools: lint, pin and verify the GitHub Actions of this organisation."""

__version__ = "0.2.0"  # x-release-please-version
