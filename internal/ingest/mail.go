package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/capture/email"
)

// Format is how an input file holds what it holds.
type Format string

const (
	FormatAuto   Format = "auto"   // by extension, else by the first bytes
	FormatNDJSON Format = "ndjson" // events, one JSON object a line
	FormatEML    Format = "eml"    // one RFC 5322 message
	FormatMbox   Format = "mbox"   // messages, each after a "From " line
)

// ParseFormat reads a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatAuto, FormatNDJSON, FormatEML, FormatMbox:
		return f, nil
	}
	return "", fmt.Errorf("format %q: want auto, ndjson, eml or mbox", s)
}

// File is one input file and its format.
type File struct {
	Path   string
	Format Format
	Size   int64
}

// FindFiles resolves paths into input files. A directory is walked: it
// gives its .eml and .mbox files, the messages of a maildir (files in
// cur/ and new/), and any other file beginning with a "From " line (an
// mbox without extension, as mail clients keep them); other files in it
// are passed over. A file named explicitly is read as format says, or, for
// FormatAuto, as its extension or first bytes tell; one whose format
// cannot be told is an error wrapping ErrBadInput.
func FindFiles(paths []string, format Format) ([]File, error) {
	var out []File
	for _, p := range paths {
		info, err := stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			f := format
			if f == FormatAuto {
				if f, err = detect(p, false); err != nil {
					return nil, err
				}
			}
			out = append(out, File{Path: p, Format: f, Size: info.Size()})
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			f := format
			if f == FormatAuto || f == FormatNDJSON {
				// A directory holds mail; NDJSON files are named one by one.
				if f, err = detect(path, true); err != nil || f == "" {
					return err
				}
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			out = append(out, File{Path: path, Format: f, Size: info.Size()})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// detect tells a file's format. In a directory (inDir), a file that is
// not mail gives "" and no error.
func detect(path string, inDir bool) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".eml":
		return FormatEML, nil
	case ".mbox", ".mbx":
		return FormatMbox, nil
	case ".ndjson", ".jsonl", ".json":
		if inDir {
			return "", nil
		}
		return FormatNDJSON, nil
	}
	if inDir {
		if dir := filepath.Base(filepath.Dir(path)); dir == "cur" || dir == "new" {
			return FormatEML, nil
		}
	}
	head, err := readHead(path, 512)
	if err != nil {
		return "", err
	}
	switch {
	case bytes.HasPrefix(head, []byte("From ")):
		return FormatMbox, nil
	case inDir:
		return "", nil
	case bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("{")):
		return FormatNDJSON, nil
	case looksLikeHeader(head):
		return FormatEML, nil
	}
	return "", fmt.Errorf("%s: %w: cannot tell the format; name it with --format", path, ErrBadInput)
}

// stat is os.Stat by opening, so that a file that cannot be read fails
// here, as "open PATH: …", before anything is sent.
func stat(path string) (fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stat()
}

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := io.ReadFull(f, b)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return b[:k], err
}

// looksLikeHeader reports whether b begins with a header field: a name
// of printable characters other than ':' and space, then ':'.
func looksLikeHeader(b []byte) bool {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	name, _, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(name) == 0 {
		return false
	}
	for _, c := range name {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// MailStats sums a mail upload.
type MailStats struct {
	Messages, Accepted, Duplicates, Unparsed int
	Retries                                  int
	Skipped                                  []MailSkip
}

// MailSkip is a message the server did not keep, and where it was.
type MailSkip struct {
	File      string
	Message   int // 1-based in its file
	MessageID string
	Reason    string
}

// Mail batching limits: a request carries at most this many messages and
// bytes (a single larger message goes alone), under the server's 64 MiB.
const (
	mailBatchMessages = 200
	mailBatchBytes    = 16 << 20
)

// UploadMail sends the messages of files (FormatEML or FormatMbox) to
// POST /v1/email in batches, as mboxrd, retrying as Push does. mailbox,
// when set, names the mailbox they were exported from. progress, when
// set, is told the bytes of all files read so far. A refused batch stops
// the upload with an error; batches before it are stored. An mbox is
// read as it is sent, never whole.
func (c *Client) UploadMail(ctx context.Context, files []File, mailbox string, progress func(read int64), retried func(attempt int, wait time.Duration, why string)) (MailStats, error) {
	var st MailStats
	path := "/v1/email"
	if mailbox != "" {
		path += "?mailbox=" + url.QueryEscape(mailbox)
	}
	type origin struct {
		file string
		n    int
	}
	var batch bytes.Buffer
	var in []origin
	var done int64 // bytes of files finished
	flush := func() error {
		if len(in) == 0 {
			return nil
		}
		var rep MailReply
		err := c.post(ctx, path, "application/mbox", batch.Bytes(), func(a int, w time.Duration, why string) {
			st.Retries++
			if retried != nil {
				retried(a, w, why)
			}
		}, &rep)
		if err != nil {
			return fmt.Errorf("%s, message %d: %w", in[0].file, in[0].n, err)
		}
		st.Messages += rep.Messages
		st.Accepted += rep.Accepted
		st.Duplicates += rep.Duplicates
		st.Unparsed += rep.Unparsed
		for _, sk := range rep.Skipped {
			s := MailSkip{MessageID: sk.MessageID, Reason: sk.Reason}
			if sk.Message >= 1 && sk.Message <= len(in) {
				s.File, s.Message = in[sk.Message-1].file, in[sk.Message-1].n
			}
			st.Skipped = append(st.Skipped, s)
		}
		batch.Reset()
		in = in[:0]
		return nil
	}
	add := func(file string, n int, msg []byte) error {
		if len(in) > 0 && (len(in) >= mailBatchMessages || batch.Len()+len(msg) > mailBatchBytes) {
			if err := flush(); err != nil {
				return err
			}
		}
		in = append(in, origin{file, n})
		return email.WriteMbox(&batch, msg)
	}
	for _, f := range files {
		if err := c.readMail(f, add, func(off int64) {
			if progress != nil {
				progress(done + off)
			}
		}); err != nil {
			return st, err
		}
		done += f.Size
		if progress != nil {
			progress(done)
		}
	}
	return st, flush()
}

// readMail hands each message of f to add, in order.
func (c *Client) readMail(f File, add func(file string, n int, msg []byte) error, at func(off int64)) error {
	fh, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer fh.Close()
	switch f.Format {
	case FormatEML:
		// One byte over the limit is read, so that the server sees the
		// message is too large and keeps it unparsed.
		msg, err := io.ReadAll(io.LimitReader(fh, email.MaxMessageBytes+1))
		if err != nil {
			return fmt.Errorf("%s: %v", f.Path, err)
		}
		return add(f.Path, 1, msg)
	case FormatMbox:
		mr := email.NewMboxReader(bufio.NewReaderSize(fh, 1<<20))
		for n := 1; ; n++ {
			msg, _, err := mr.Next(email.MaxMessageBytes + 1)
			if err == io.EOF {
				return nil
			}
			if err != nil && !errors.Is(err, email.ErrTooLarge) {
				return fmt.Errorf("%s: %w", f.Path, err)
			}
			if err := add(f.Path, n, msg); err != nil {
				return err
			}
			at(mr.Offset())
		}
	}
	return fmt.Errorf("%s: %w: format %q is not mail", f.Path, ErrBadInput, f.Format)
}
