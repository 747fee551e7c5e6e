"""Connection settings of the Salesforce connector."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from crmlink.connector import ConnectorSettings
from pydantic import Field, SecretStr, field_validator, model_validator

__all__ = ["SalesforceSettings", "is_loopback_url"]

_VERSION = re.compile(r"^\d{2,3}\.\d$")


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise ValueError(f"{what} must be an absolute https:// URL")
    if parts.scheme == "http" and not is_loopback_url(value):
        raise ValueError(
            f"{what} must use https:// (plain http is only allowed on loopback "
            "addresses, e.g. the local emulator)"
        )
    return value.rstrip("/")


class SalesforceSettings(ConnectorSettings):
    """How to reach one Salesforce org.

    Either ``access_token`` (a session id or OAuth access token) or an OAuth refresh setup
    (``client_id``, ``client_secret``, ``refresh_token``, and ``token_url`` or ``login_url``).
    With both, the access token is used first and refreshed once when Salesforce says
    ``INVALID_SESSION_ID``.
    """

    instance_url: str = Field(description="e.g. https://acme.my.salesforce.com")
    access_token: SecretStr | None = None
    client_id: str | None = Field(default=None, description="Connected app consumer key.")
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    login_url: str = Field(
        default="https://login.salesforce.com",
        description="https://test.salesforce.com for sandboxes; ignored if token_url is set.",
    )
    token_url: str | None = Field(
        default=None, description="OAuth token endpoint; default <login_url>/services/oauth2/token."
    )
    api_version: str = "59.0"
    timeout: float = Field(default=30.0, gt=0, description="Seconds per HTTP request.")
    max_retries: int = Field(default=2, ge=0, le=10, description="Retries on 5xx and timeouts.")
    retry_backoff: float = Field(
        default=0.5, ge=0, le=30, description="First retry delay in seconds; doubles each retry."
    )
    workflow_object_field: str | None = Field(
        default=None,
        description="Platform Event field that receives the CRM object name on `workflow`.",
    )
    workflow_record_id_field: str | None = Field(
        default=None,
        description="Platform Event field that receives the record id on `workflow`.",
    )

    @field_validator("instance_url")
    @classmethod
    def _instance_url(cls, value: str) -> str:
        checked = _check_url(value, "instance_url")
        assert checked is not None
        return checked

    @field_validator("login_url", "token_url")
    @classmethod
    def _oauth_urls(cls, value: str | None) -> str | None:
        return _check_url(value, "login_url/token_url")

    @field_validator("api_version")
    @classmethod
    def _api_version(cls, value: str) -> str:
        value = value.removeprefix("v")
        if not _VERSION.match(value):
            raise ValueError("api_version looks like '59.0'")
        return value

    @model_validator(mode="after")
    def _credentials(self) -> SalesforceSettings:
        if self.access_token is None and not (self.client_id and self.refresh_token):
            raise ValueError(
                "give access_token, or client_id + refresh_token (+ client_secret) for OAuth"
            )
        return self

    @property
    def can_refresh(self) -> bool:
        """Whether an OAuth refresh is configured."""
        return bool(self.client_id and self.refresh_token)

    @property
    def oauth_token_url(self) -> str:
        """The token endpoint used for the refresh_token grant."""
        return self.token_url or f"{self.login_url}/services/oauth2/token"
