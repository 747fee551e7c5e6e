"""Settings of a HubSpot connection: a private-app token, or an OAuth refresh token."""

from __future__ import annotations

from typing import Self

from crmlink.connector import ConnectorSettings
from pydantic import Field, SecretStr, model_validator

__all__ = ["HubSpotSettings"]


class HubSpotSettings(ConnectorSettings):
    """How to reach one HubSpot portal.

    Give either ``access_token`` (a private app's token, ``pat-...``), or ``client_id``,
    ``client_secret`` and ``refresh_token`` of a public app installed in the portal (the
    connector then obtains and renews access tokens itself). ``base_url`` points at the API
    (the emulator's URL in tests). The retry and pacing settings bound how long a call may wait
    on HubSpot's limits before failing with ``crm_rate_limited`` / ``crm_unavailable``.
    """

    access_token: SecretStr | None = Field(default=None, description="Private app access token.")
    client_id: str | None = Field(default=None, description="OAuth app client id.")
    client_secret: SecretStr | None = Field(default=None, description="OAuth app client secret.")
    refresh_token: SecretStr | None = Field(default=None, description="OAuth refresh token.")
    base_url: str = Field(default="https://api.hubapi.com", description="HubSpot API base URL.")
    timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for one answer.")
    max_retries: int = Field(
        default=3, ge=0, le=10, description="Retries of a call refused with 429 or a 5xx."
    )
    backoff: float = Field(
        default=0.5, ge=0, description="First wait before retrying a 5xx (doubles each time)."
    )
    max_wait: float = Field(
        default=10.0, ge=0, description="Longest single wait on a limit or failure, in seconds."
    )
    burst_limit: int | None = Field(
        default=None,
        gt=0,
        description="Requests per rolling window to pace to; learned from "
        "X-HubSpot-RateLimit-Max when unset (100 until the first answer).",
    )
    burst_window: float | None = Field(
        default=None, gt=0, description="Window length in seconds; learned from the headers."
    )

    @model_validator(mode="after")
    def _one_way_in(self) -> Self:
        oauth = (self.client_id, self.client_secret, self.refresh_token)
        if self.access_token is None and not all(oauth):
            raise ValueError(
                "give access_token (private app) or client_id, client_secret and refresh_token"
            )
        self.base_url = self.base_url.rstrip("/")
        return self

    @property
    def uses_oauth(self) -> bool:
        """Whether access tokens come from the refresh-token grant."""
        return self.access_token is None
