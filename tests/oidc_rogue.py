"""A deliberately faulty OpenID Connect provider, for the client's negative tests.

It answers every authorisation request at once with a code, and its token endpoint returns
an ID token with the defect chosen by the test (`RogueProvider.defect`): tampered payload,
wrong nonce, wrong audience, expired, wrong issuer, signed by a key not in the JWKS, or no
ID token at all. With `defect=None` it behaves correctly, which proves the test set-up.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from urllib.parse import urlencode

import flask
from joserfc import jwt
from joserfc.jwk import ECKey

DEFECTS = ("tampered", "nonce", "audience", "expired", "issuer", "foreign_key", "no_id_token")


class RogueProvider:
    def __init__(self, claims: dict):
        self.claims = claims
        self.defect: str | None = None
        self.key = ECKey.generate_key("P-256", parameters={"kid": "rogue-1"})
        self.foreign = ECKey.generate_key("P-256", parameters={"kid": "rogue-1"})
        self.codes: dict[str, dict] = {}
        self.issuer = ""  # set once the server's port is known
        self.app = flask.Flask(__name__)
        self.app.add_url_rule("/.well-known/openid-configuration", view_func=self.discovery)
        self.app.add_url_rule("/jwks", view_func=self.jwks)
        self.app.add_url_rule("/authorize", view_func=self.authorize)
        self.app.add_url_rule("/token", view_func=self.token, methods=["POST"])

    def discovery(self):
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        }

    def jwks(self):
        return {"keys": [self.key.as_dict(private=False)]}

    def authorize(self):
        args = flask.request.args
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": args.get("nonce"), "client_id": args.get("client_id")}
        query = urlencode({"code": code, "state": args.get("state", "")})
        return flask.redirect(f"{args['redirect_uri']}?{query}")

    def token(self):
        data = self.codes.pop(flask.request.form.get("code", ""), None)
        if data is None:
            return {"error": "invalid_grant"}, 400
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": data["client_id"],
            "iat": now,
            "exp": now + 300,
            "nonce": data["nonce"],
            **self.claims,
        }
        key = self.key
        if self.defect == "nonce":
            claims["nonce"] = "not-the-nonce"
        elif self.defect == "audience":
            claims["aud"] = "someone-else"
        elif self.defect == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        elif self.defect == "issuer":
            claims["iss"] = "https://evil.example"
        elif self.defect == "foreign_key":
            key = self.foreign
        id_token = jwt.encode({"alg": "ES256", "kid": "rogue-1"}, claims, key)
        if self.defect == "tampered":
            header, payload, signature = id_token.split(".")
            forged = dict(claims, family_name="Imposteur")
            raw = json.dumps(forged).encode()
            payload = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
            id_token = f"{header}.{payload}.{signature}"
        response = {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 300,
        }
        if self.defect != "no_id_token":
            response["id_token"] = id_token
        return response
