// Package oidc signs people in through the force's identity provider. lbm
// is an OpenID Connect relying party: it never sees a password, and takes
// who someone is, and the directory fields the provider vouches for, from
// an ID token the provider signed.
//
// The package knows nothing of lbm's store or sessions. [Provider.Finish]
// returns an [Identity] of raw claim strings; the caller checks the roles
// and rank (identity.ParseRole, identity.ParseRank), matches the person to
// the directory and opens a session.
//
// # The flow
//
// It is the authorization code flow of [OpenID Connect Core] §3.1, with
// PKCE ([RFC 7636], method S256) and a nonce:
//
//  1. [Provider.Start] makes an [Attempt] of three fresh secrets (state,
//     nonce and PKCE verifier, each 32 random bytes) and the provider URL
//     to send the browser to. The URL carries the state, the nonce and
//     SHA-256(verifier), never the verifier.
//  2. The caller keeps the Attempt in a short-lived, HttpOnly, Secure
//     cookie, and redirects the browser. SameSite=Lax, not Strict: the
//     callback is a cross-site navigation from the provider. A __Host-
//     name stops a sibling subdomain from planting its own Attempt.
//  3. The person signs in at the provider, which redirects the browser to
//     [Config.RedirectURL] with ?code=…&state=….
//  4. The caller reads the cookie, deletes it (an Attempt is good for one
//     try) and calls [Provider.Finish] with the Attempt and the query's
//     state and code.
//  5. Finish checks the state, exchanges the code and verifier for tokens
//     over the back channel, verifies the ID token, and maps its claims.
//
// A worked example, as an HTTP handler pair would use it:
//
//	p, err := oidc.New(ctx, oidc.Config{
//		Issuer:       "https://login.force.example",
//		ClientID:     "lbm",
//		ClientSecret: secret,
//		RedirectURL:  "https://lbm.example/sign-in/oidc/callback",
//	})
//	// GET /sign-in/oidc
//	a, url := p.Start()
//	setAttemptCookie(w, a) // HttpOnly, Secure, 10 minutes
//	http.Redirect(w, r, url, http.StatusFound)
//	// GET /sign-in/oidc/callback
//	a := takeAttemptCookie(w, r) // read and delete
//	id, err := p.Finish(ctx, a, r.FormValue("state"), r.FormValue("code"))
//
// # Why state, nonce and PKCE
//
// Each of the three secrets binds a different step to the browser that
// started the sign-in, and each stops a different attack:
//
//   - The state binds the callback to the browser's cookie. Without it an
//     attacker could send a victim's browser to the callback with the
//     attacker's own code (login CSRF), and the victim would then work,
//     and leave records, as the attacker. Finish compares it in constant
//     time and fails with [ErrState].
//   - PKCE binds the code to the verifier, which never leaves lbm and the
//     cookie. A code stolen on its way back (from a log, a Referer, a
//     malicious app on the device) cannot be redeemed without it, and a
//     code injected into someone else's session fails the exchange.
//   - The nonce binds the ID token to the Attempt. The provider copies it
//     from the authorization request into the token it signs, so a token
//     replayed from another sign-in, of this person or anyone else, does
//     not match; Finish fails with [ErrNonce].
//
// The ID token itself is checked as [OpenID Connect Core] §3.1.3.7 asks:
// the signature against the provider's published keys (fetched from the
// discovered jwks_uri, over TLS), the issuer, the audience (it must name
// our client, and if it names others the authorized party must be us),
// and the expiry. The issuer and the endpoints come only from the
// discovery document of [Config.Issuer], which must itself name that
// issuer; no URL is taken from a callback.
//
// Issuer and RedirectURL must be https, except on a loopback host for
// development and tests: the code, the tokens and the client secret
// would otherwise cross the network in clear.
//
// # What the claims are trusted for
//
// A verified ID token is the provider's word, and lbm takes it for what
// the provider is the authority on: the person's ID, name and unit, their
// roles, and their rank or staff grade. Ranks come from here or from the
// HR import only; lbm's own screens never let a person set a rank, so a
// rank in lbm is always one that the force's systems of record gave. The
// caller must still parse Roles and Rank with identity.ParseRole and
// identity.ParseRank, and refuse unknown values, rather than store them
// raw.
//
// The claims names are configured by a [ClaimMap], because every
// provider spells its custom claims differently. The provider must be set
// to put these claims in the ID token; Finish does not call the userinfo
// endpoint. A missing ID claim is an error, since a person with no stable
// ID cannot be attributed; the other fields may be missing and are then
// empty.
//
// Errors never carry a code, a token, the verifier or the client secret,
// and nothing here logs.
//
// [OpenID Connect Core]: https://openid.net/specs/openid-connect-core-1_0.html
// [RFC 7636]: https://www.rfc-editor.org/rfc/rfc7636
package oidc
