package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"net/url"
	"time"

	"github.com/lbm-project/lbm/internal/keys"
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

// SealTOTP wraps a person's TOTP secret with the key-encryption key, bound
// to the person, for storing: a copy of the database (a backup, a replica)
// then yields no second factor, and a secret cannot be moved to another
// person's row.
func SealTOTP(kek keys.KEK, person string, secret []byte) ([]byte, error) {
	w, err := kek.Wrap(secret, totpAAD(person))
	if err != nil {
		return nil, fmt.Errorf("sealing the second factor: %w", err)
	}
	return w, nil
}

// openTOTP reverses SealTOTP.
func openTOTP(kek keys.KEK, person string, sealed []byte) ([]byte, error) {
	secret, err := kek.Unwrap(sealed, totpAAD(person))
	if err != nil {
		return nil, fmt.Errorf("opening %s's second factor: %w", person, err)
	}
	return secret, nil
}

func totpAAD(person string) []byte { return []byte("lbm/totp/v1\n" + person) }

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
