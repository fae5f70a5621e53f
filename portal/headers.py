"""The web baseline of SECURITY.md item 16, built once from the configuration."""

from __future__ import annotations

from urllib.parse import urlsplit

from keerpunt.base.config import Config, ConfigError


def _origin(value: str, key: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") or parts.query:
        raise ConfigError(key, f"expected an origin like https://partner.example.nl, got {value!r}")
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(config: Config) -> str:
    ancestors = ["'self'"] + [
        _origin(o, f"portal.frame_ancestors[{i}]") for i, o in enumerate(config.portal.frame_ancestors)
    ]
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors " + " ".join(ancestors),
        ]
    )


def security_headers(config: Config) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(config),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if config.portal.public_url.startswith("https://"):
        headers["Strict-Transport-Security"] = "max-age=63072000"
    return headers
