"""A small OpenID provider for tests: discovery, JWKS, authorize and token endpoints,
run on 127.0.0.1 in a thread, with its own RSA signing key.

`misbehave` makes the next ID tokens wrong in one chosen way, to check that the
dashboard notices.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "keygate-dashboard"
CLIENT_SECRET = "s3cret/with:odd&chars"
SUBJECT = "user-123"
EMAIL = "ada@example.com"
KID = "test-key-1"


def _rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig", "alg": "RS256"})


@functools.cache
def _provider_key() -> RSAKey:
    # Generating RSA keys is slow; one per test run is enough for the good path.
    return _rsa_key()


@dataclass
class Provider:
    issuer: str = ""
    signing_key: RSAKey = field(default_factory=_provider_key)
    # One of: None (behave), "bad-signature", "wrong-audience", "expired", "replay-nonce".
    misbehave: str | None = None
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    issued_tokens: list[str] = field(default_factory=list)
    token_requests: int = 0
    # A public client (as Replit Auth's) authenticates with no secret, PKCE alone.
    public_client: bool = False

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": SUBJECT,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "email": EMAIL,
        }
        key = self.signing_key
        if self.misbehave == "expired":
            claims |= {"iat": now - 3600, "exp": now - 600}
        if self.misbehave == "wrong-audience":
            claims["aud"] = "some-other-client"
        if self.misbehave == "bad-signature":
            key = _rsa_key()  # same kid, different key: only the signature gives it away
        if self.misbehave == "replay-nonce" and self.issued_tokens:
            return self.issued_tokens[0]
        token = jwt.encode({"alg": "RS256", "kid": KID}, claims, key)
        self.issued_tokens.append(token)
        return token


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._json(
                    200,
                    {
                        "issuer": provider.issuer,
                        "authorization_endpoint": provider.issuer + "/authorize",
                        "token_endpoint": provider.issuer + "/token",
                        "jwks_uri": provider.issuer + "/jwks",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "code_challenge_methods_supported": ["S256"],
                        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                    },
                )
            elif url.path == "/jwks":
                self._json(200, {"keys": [provider.signing_key.as_dict(private=False)]})
            elif url.path == "/authorize":
                if (
                    query.get("client_id") != CLIENT_ID
                    or query.get("response_type") != "code"
                    or query.get("code_challenge_method") != "S256"
                    or "openid" not in query.get("scope", "").split()
                ):
                    self._json(400, {"error": "invalid_request"})
                    return
                code = secrets.token_urlsafe(16)
                provider.codes[code] = query
                target = (
                    query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
                )
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/token":
                self._json(404, {"error": "not_found"})
                return
            provider.token_requests += 1
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            auth = self.headers.get("Authorization", "")
            user, _, password = (
                base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
            )
            if provider.public_client:
                authenticated = not auth and form.get("client_id") == CLIENT_ID
            else:
                authenticated = (unquote(user), unquote(password)) == (CLIENT_ID, CLIENT_SECRET)
            if not authenticated:
                self._json(401, {"error": "invalid_client"})
                return
            request = provider.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .decode()
                .rstrip("=")
            )
            if (
                request is None
                or form.get("grant_type") != "authorization_code"
                or form.get("redirect_uri") != request["redirect_uri"]
                or challenge != request["code_challenge"]
            ):
                self._json(400, {"error": "invalid_grant"})
                return
            self._json(
                200,
                {
                    "access_token": secrets.token_urlsafe(16),
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": provider.id_token(request["nonce"]),
                },
            )

    return Handler


@contextlib.contextmanager
def running_provider() -> Iterator[Provider]:
    provider = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
