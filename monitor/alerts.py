"""Alerts through Apprise when a source turns unhealthy and when it recovers.

The previous verdict of every source lives in a small JSON file in the data dir, so a
restarted service neither repeats an alert it already sent nor misses a recovery.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import apprise

from monitor.health import SourceHealth
from scraper.config import Config

logger = logging.getLogger(__name__)

STATE_FILE = "health-state.json"
AlertKind = Literal["unhealthy", "recovered"]


@dataclass(frozen=True)
class Alert:
    source: str
    kind: AlertKind
    title: str
    body: str


def alert_for(health: SourceHealth, previous: str | None) -> Alert | None:
    """The alert a verdict change calls for, if any (each reason cites its rule id).

    Degraded is not alerted (it shows on the status page and in ``status``), but leaving
    unhealthy for it is a recovery.

    A source seen for the first time alerts only when it is unhealthy: a fresh install must
    not greet the operator with a "recovered" message per healthy source.
    """
    if health.verdict == "unhealthy" and previous != "unhealthy":
        reasons = "\n".join(f"- {f.message} [{f.rule}]" for f in health.findings)
        return Alert(
            source=health.source,
            kind="unhealthy",
            title=f"clusterwatch: {health.label} ({health.source}) is unhealthy",
            body=f"{health.label} ({health.source}) turned unhealthy:\n{reasons}",
        )
    if health.verdict in ("healthy", "degraded") and previous == "unhealthy":
        still = "".join(f"\n- {f.message} [{f.rule}]" for f in health.findings)
        return Alert(
            source=health.source,
            kind="recovered",
            title=f"clusterwatch: {health.label} ({health.source}) recovered",
            body=f"{health.label} ({health.source}) is {health.verdict} again." + still,
        )
    return None


class Alerter:
    """Sends alerts on verdict changes; ``update`` after every health evaluation."""

    def __init__(self, config: Config, state_path: Path | None = None):
        self.urls = list(config.alert_urls)
        self.state_path = state_path or config.data_dir / STATE_FILE

    def update(self, healths: Iterable[SourceHealth]) -> list[Alert]:
        """Notify about every changed verdict; returns the alerts actually delivered."""
        state = self.load_state()
        sent: list[Alert] = []
        for health in healths:
            alert = alert_for(health, state.get(health.source))
            if alert is not None:
                if not self.send(alert):
                    # Keep the old verdict so the next evaluation tries again.
                    continue
                sent.append(alert)
            state[health.source] = health.verdict
        self.save_state(state)
        return sent

    def send(self, alert: Alert) -> bool:
        """Deliver through every configured Apprise URL; without URLs there is nobody to tell."""
        if not self.urls:
            logger.info("no alert URLs configured; not sending: %s", alert.title)
            return True
        notifier = apprise.Apprise()
        for url in self.urls:
            if not notifier.add(url):
                logger.error("alert URL not understood by Apprise: %s", _redacted(url))
        if len(notifier) == 0:
            return False
        notify_type = (
            apprise.NotifyType.FAILURE if alert.kind == "unhealthy" else apprise.NotifyType.SUCCESS
        )
        delivered = bool(
            notifier.notify(body=alert.body, title=alert.title, notify_type=notify_type)
        )
        if delivered:
            logger.info("alert sent: %s", alert.title)
        else:
            logger.warning(
                "alert not delivered (will retry on the next evaluation): %s", alert.title
            )
        return delivered

    def load_state(self) -> dict[str, str]:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            # A corrupt state file costs at most one repeated alert; never a crash.
            logger.warning("ignoring unreadable alert state %s: %s", self.state_path, error)
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): str(v) for k, v in data.items()}

    def save_state(self, state: dict[str, str]) -> None:
        # Atomic replace: a crash mid-write must not lose every source's verdict.
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.state_path.parent, prefix=".health-state-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(state, out, indent=2, sort_keys=True)
            os.replace(tmp, self.state_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _redacted(url: str) -> str:
    """An Apprise URL may carry a token; log only its scheme."""
    return url.split("://", 1)[0] + "://…"
