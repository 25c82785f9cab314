package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"net/url"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// The second factor is TOTP (RFC 6238): SHA-1, 6 digits, 30-second steps,
// which every authenticator app supports. A code is accepted for the step
// before, the current step and the step after (clock drift), and each step
// at most once per person ([store.Credentials.UseTOTPStep]), so a code seen
// over a shoulder cannot be replayed.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	totpSkew   = 1
)

var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a fresh 20-byte shared secret.
func NewTOTPSecret() []byte {
	b := make([]byte, 20)
	rand.Read(b)
	return b
}

// FormatTOTPSecret is the secret as a person types it into an app: base32
// without padding.
func FormatTOTPSecret(secret []byte) string {
	return totpEncoding.EncodeToString(secret)
}

// TOTPURI is the otpauth:// URI an authenticator app reads from a QR code.
func TOTPURI(issuer, account string, secret []byte) string {
	v := url.Values{}
	v.Set("secret", FormatTOTPSecret(secret))
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", "30")
	return "otpauth://totp/" + url.PathEscape(issuer+":"+account) + "?" + v.Encode()
}

// TOTPCode returns the code for secret at t; for tests and the CLI.
func TOTPCode(secret []byte, t time.Time) string {
	code, err := totp.GenerateCodeCustom(FormatTOTPSecret(secret), t, totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		// Only a malformed secret fails, and FormatTOTPSecret never makes one.
		panic("identity: generating TOTP code: " + err.Error())
	}
	return code
}

// MatchTOTP returns the time step whose code equals code at now, within
// the allowed skew, and whether there was one. The caller must then record
// the step with UseTOTPStep, which refuses a step already used.
func MatchTOTP(secret []byte, code string, now time.Time) (step int64, ok bool) {
	if len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		s := cur + d
		want := TOTPCode(secret, time.Unix(s*totpPeriod, 0))
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}
