"""The bench peer app package."""
