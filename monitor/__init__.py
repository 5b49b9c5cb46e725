def clusterwatch_version() -> str:
    """The installed package's version ("unknown" in a checkout that was never installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("clusterwatch")
    except PackageNotFoundError:
        return "unknown"
