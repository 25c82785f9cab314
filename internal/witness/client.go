package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// maxResponse bounds what is read of a witness's answer: a few signature
// lines, or a size, or a short error.
const maxResponse = 16 << 10

// Sentinels of a witness's refusals (c2sp.org/tlog-witness), wrapped by
// the *RefusedError that carries the witness's words.
var (
	// ErrUnknownLog: the witness does not know the log's origin (404).
	ErrUnknownLog = errors.New("the witness does not know this log")
	// ErrBadSignature: the witness found no signature by a key it trusts
	// for the log (403). litewitness also answers 403 for an unknown log.
	ErrBadSignature = errors.New("the witness refused the checkpoint's signature")
	// ErrBadProof: the consistency proof does not check against what the
	// witness cosigned before (422): the log does not extend it.
	ErrBadProof = errors.New("the witness refused the consistency proof: the log does not extend what it cosigned")
	// ErrBadRequest: the witness could not read the request (400).
	ErrBadRequest = errors.New("the witness refused the request as malformed")
	// ErrBadCosignature: the witness answered 200 without a cosignature
	// that checks with its configured key.
	ErrBadCosignature = errors.New("the witness's answer holds no valid cosignature")
)

// RefusedError is a witness's refusal: its HTTP status, the sentinel it
// means (Is), and its message, escaped and cut short.
type RefusedError struct {
	Status int
	Err    error
	Body   string
}

func (e *RefusedError) Error() string {
	s := fmt.Sprintf("%v (HTTP %d)", e.Err, e.Status)
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

func (e *RefusedError) Unwrap() error { return e.Err }

// ConflictError is a 409: the witness has cosigned Known, not the old
// size offered. The push is resent from Known.
type ConflictError struct{ Known uint64 }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("the witness has cosigned size %d, not the old size offered (HTTP 409)", e.Known)
}

// FormatAddCheckpoint returns an add-checkpoint request body: the old
// size, the consistency proof from it, one base64 hash a line, an empty
// line and the signed checkpoint.
func FormatAddCheckpoint(old uint64, proof [][]byte, signed []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", old)
	for _, h := range proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(signed)
	return b.Bytes()
}

// addCheckpoint sends one add-checkpoint request to w and returns the
// cosignature line of w's configured key over the checkpoint's text.
func addCheckpoint(ctx context.Context, hc *http.Client, w Witness, old uint64, proof [][]byte, signed []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL+"/add-checkpoint",
		bytes.NewReader(FormatAddCheckpoint(old, proof, signed)))
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reaching the witness: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("reading the witness's answer: %w", err)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("the witness's answer is longer than %d bytes", maxResponse)
	}
	refused := func(sentinel error) error {
		return &RefusedError{Status: resp.StatusCode, Err: sentinel, Body: shorten(body)}
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return checkCosignature(signed, body, w.verifier)
	case http.StatusConflict:
		s := strings.TrimSuffix(string(body), "\n")
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || strconv.FormatUint(n, 10) != s {
			return nil, refused(errors.New("the witness answered 409 without its size"))
		}
		return nil, &ConflictError{Known: n}
	case http.StatusNotFound:
		return nil, refused(ErrUnknownLog)
	case http.StatusForbidden:
		return nil, refused(ErrBadSignature)
	case http.StatusUnprocessableEntity:
		return nil, refused(ErrBadProof)
	case http.StatusBadRequest:
		return nil, refused(ErrBadRequest)
	}
	return nil, refused(errors.New("the witness failed"))
}

// checkCosignature returns the line of sigs (a witness's answer: note
// signature lines) that v verifies over signed's text, in canonical form.
// Lines by other keys are ignored; none by v is ErrBadCosignature.
func checkCosignature(signed, sigs []byte, v note.Verifier) ([]byte, error) {
	text, ok := noteText(signed)
	if !ok {
		return nil, errors.New("the checkpoint is not a signed note")
	}
	line, ok := verifyLines(text, sigs, v)
	if !ok {
		return nil, &RefusedError{Status: http.StatusOK, Err: ErrBadCosignature, Body: shorten(sigs)}
	}
	return line, nil
}

// verifyLines returns the first of the signature lines sigs that v
// verifies over text, re-encoded; false when there is none.
func verifyLines(text, sigs []byte, v note.Verifier) ([]byte, bool) {
	if len(sigs) == 0 || sigs[len(sigs)-1] != '\n' {
		return nil, false
	}
	msg := append(append(append([]byte{}, text...), '\n'), sigs...)
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil || len(n.Sigs) == 0 {
		return nil, false
	}
	s := n.Sigs[0]
	return []byte("— " + s.Name + " " + s.Base64 + "\n"), true
}

// noteText returns the text of a signed note: everything up to and
// including the newline before the blank line that starts the signatures.
func noteText(signed []byte) ([]byte, bool) {
	i := bytes.LastIndex(signed, []byte("\n\n"))
	if i < 0 {
		return nil, false
	}
	return signed[:i+1], true
}

// shorten returns the start of a witness's words, fit to show and log.
func shorten(b []byte) string {
	const max = 200
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
