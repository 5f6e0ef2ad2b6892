"""Failure alerts to a Slack-compatible webhook: one message, a bounded try, never the key."""

from __future__ import annotations

import logging

import httpx

from mixpeek_tasks.secrets import mask

log = logging.getLogger(__name__)


def failure_text(started: str | None, step: str | None, cause: str,
                 run_url: str | None = None) -> str:
    """The alert's text: which run (when it started, UTC), which step, why in one line, and
    where to look."""
    first_line = (cause.strip().splitlines() or ["no reason given"])[0]
    text = (f":red_circle: Mixpeek task export started {started or 'at an unknown time'} failed"
            f" at {step or 'an unknown step'}: {first_line}")
    return f"{text}\n<{run_url}|Open the run>" if run_url else text


def post_alert(webhook_url: str, text: str, *, secret: str | None = None,
               attempts: int = 2, timeout: float = 10.0) -> bool:
    """POST `{"text": text}`; True once the webhook took it. A failing webhook is logged and
    given up after `attempts`: an alert must never hold up or fail the next night. Every
    form of `secret` in `text` is masked."""
    text = mask(text, secret)
    for attempt in range(1, attempts + 1):
        try:
            response = httpx.post(webhook_url, json={"text": text}, timeout=timeout)
        except httpx.HTTPError as error:
            reason = f"{type(error).__name__}: {error}"
        else:
            if response.is_success:
                return True
            reason = f"HTTP {response.status_code}"
        log.warning("alert webhook attempt %d of %d failed: %s", attempt, attempts, reason)
    return False
