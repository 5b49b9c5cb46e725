"""``python -m monitor.healthcheck``: exit 0 when the service's ``/healthz`` answers 200.

The container's HEALTHCHECK: it reads the same configuration as the service, so it follows
``http_port`` (and ``http_host``) wherever they are set — environment or TOML file.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from scraper.config import ConfigError, load_config

WILDCARDS = ("0.0.0.0", "::", "")


def healthz_url() -> str:
    config = load_config()
    host = "127.0.0.1" if config.http_host in WILDCARDS else config.http_host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.http_port}/healthz"


def main() -> int:
    try:
        url = healthz_url()
    except ConfigError as error:
        print(f"clusterwatch healthcheck: configuration error: {error}", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"clusterwatch healthcheck: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
