package trial

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/email"
	"github.com/lbm-project/lbm/internal/capture/esbulk"
	"github.com/lbm-project/lbm/internal/capture/otlp"
	"github.com/lbm-project/lbm/internal/capture/syslog"
)

// Read reads sample input of an input the way its listener or route
// would: syslog messages one per line (or octet-counted); e-mail as one
// message or an mbox, for mailbox; _bulk documents as NDJSON, one
// document a line (no action lines); OTLP as an ExportLogsServiceRequest
// in JSON. received stands for when lbm got them.
func Read(in capture.Input, data []byte, mailbox string, received time.Time) ([]capture.Record, error) {
	switch in {
	case capture.Syslog:
		return readSyslog(data, received)
	case capture.Email:
		format := email.Single
		if bytes.HasPrefix(data, []byte("From ")) {
			format = email.Mbox
		}
		b, err := email.ReadBatch(bytes.NewReader(data), format, mailbox, received)
		return b.Records, err
	case capture.ECS:
		// Each document as a shipper's "create" of it.
		var body []byte
		for line := range bytes.Lines(data) {
			if line = bytes.TrimSpace(line); len(line) > 0 {
				body = append(append(append(body, `{"create":{}}`+"\n"...), line...), '\n')
			}
		}
		req, err := esbulk.Parse(body, "sample", received)
		if err != nil {
			return nil, err
		}
		return req.Records, nil
	case capture.OTLP:
		return otlp.Parse(data, otlp.JSON, received)
	}
	return nil, fmt.Errorf("no input %q", in)
}

func readSyslog(data []byte, received time.Time) ([]capture.Record, error) {
	f := syslog.NewFramer(bytes.NewReader(data))
	p := syslog.NewParser()
	var out []capture.Record
	for {
		fr, err := f.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p.ParseFrame(fr, received))
	}
}
