"""OpenID Connect sign-in (the IdentityProvider port): authorization code flow with PKCE,
against a provider found by discovery, with the ID token's signature, issuer, audience,
nonce and expiry checked.

Authlib supplies the protocol pieces (PKCE challenge, authorization URL, token
generation); the ID token is verified with joserfc, the JOSE library Authlib itself
now builds on (its own `authlib.jose` is deprecated in favour of it).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from application.ports.identity import Identity, PendingLogin, SignInFailed

CALLBACK_PATH = "/dashboard/auth/callback"
SCOPE = "openid profile email"
# Asymmetric algorithms only: with HS256 the client secret would be the verification key,
# and anyone holding it could mint tokens.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")
CLOCK_LEEWAY_SECONDS = 60
METADATA_TTL_SECONDS = 3600.0
HTTP_TIMEOUT_SECONDS = 10.0


class OidcClient:
    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        public_base_url: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = public_base_url.rstrip("/") + CALLBACK_PATH
        self._clock = clock
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._lock = asyncio.Lock()

    def new_login(self) -> PendingLogin:
        return PendingLogin(
            state=generate_token(32), nonce=generate_token(32), verifier=generate_token(64)
        )

    async def authorization_url(self, login: PendingLogin) -> str:
        metadata = await self._discover()
        url: str = prepare_grant_uri(
            metadata["authorization_endpoint"],
            self._client_id,
            "code",
            redirect_uri=self.redirect_uri,
            scope=SCOPE,
            state=login.state,
            nonce=login.nonce,
            code_challenge=create_s256_code_challenge(login.verifier),
            code_challenge_method="S256",
        )
        return url

    async def identity(self, code: str, login: PendingLogin) -> Identity:
        """Redeem the code and verify the ID token that comes back."""
        metadata = await self._discover()
        tokens = await self._redeem(metadata, code, login.verifier)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("The provider returned no ID token")
        claims = await self._verified_claims(id_token, login.nonce)
        name = claims.get("email") or claims.get("preferred_username") or claims.get("name")
        return Identity(
            issuer=self.issuer,
            subject=str(claims["sub"]),
            display_name=str(name) if name else None,
        )

    async def _discover(self) -> dict[str, Any]:
        async with self._lock:
            fresh = self._clock() - self._metadata_at < METADATA_TTL_SECONDS
            if self._metadata is not None and fresh:
                return self._metadata
            metadata = await _get_json(self.issuer + "/.well-known/openid-configuration")
            # OpenID Connect Discovery 4.3: the document must name the issuer it was
            # fetched for, or an attacker's document could stand in for it.
            if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
                raise SignInFailed("The provider's discovery document names another issuer")
            for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(metadata.get(field), str):
                    raise SignInFailed(f"The provider's discovery document lacks {field}")
            self._metadata, self._metadata_at = metadata, self._clock()
            return metadata

    async def _redeem(self, metadata: dict[str, Any], code: str, verifier: str) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
        }
        headers = {"Accept": "application/json"}
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if self._client_secret is None:
            # A public client: the PKCE verifier is what proves this is the same party.
            form["client_id"] = self._client_id
        elif "client_secret_basic" in methods:
            # RFC 6749 2.3.1: both parts are form-encoded before going into Basic.
            user = quote(self._client_id, safe="")
            password = quote(self._client_secret, safe="")
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        else:
            form |= {"client_id": self._client_id, "client_secret": self._client_secret}
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as http:
                response = await http.post(metadata["token_endpoint"], data=form, headers=headers)
        except httpx.HTTPError:
            raise SignInFailed("The provider could not be reached") from None
        if response.status_code != 200:
            raise SignInFailed("The provider refused the authorization code")
        body = response.json()
        if not isinstance(body, dict):
            raise SignInFailed("The provider's token response is malformed")
        return body

    async def _verified_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            token = jwt.decode(id_token, await self._key_set(), algorithms=ID_TOKEN_ALGORITHMS)
        except JoseError:
            # The provider may have rotated its keys since we fetched them: look once more.
            try:
                token = jwt.decode(
                    id_token, await self._key_set(refresh=True), algorithms=ID_TOKEN_ALGORITHMS
                )
            except JoseError:
                raise SignInFailed("The ID token's signature is not valid") from None
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self._clock()),
            leeway=CLOCK_LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer},
            sub={"essential": True},
            aud={"essential": True, "value": self._client_id},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        claims = token.claims
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise SignInFailed(f"The ID token was not accepted: {exc.description}") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self._client_id:
            raise SignInFailed("The ID token was issued to another party")
        return claims

    async def _key_set(self, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            metadata = await self._discover()
            try:
                self._keys = KeySet.import_key_set(await _get_json(metadata["jwks_uri"]))  # type: ignore[arg-type]
            except (JoseError, ValueError, KeyError):
                raise SignInFailed("The provider's signing keys could not be read") from None
        return self._keys


async def _get_json(url: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError):
        raise SignInFailed("The provider could not be reached") from None
    if not isinstance(body, dict):
        raise SignInFailed("The provider answered with something other than a JSON object")
    return body
