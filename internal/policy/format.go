package policy

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WritePurposes writes ps as a table for a terminal: id, title, reference
// (with "(verify)" when it still needs checking) and limits.
func WritePurposes(w io.Writer, ps []Purpose) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPURPOSE\tREFERENCE\tLIMITS")
	for _, p := range ps {
		var limits []string
		if p.MonitorOnly {
			limits = append(limits, "monitor only, never record")
		}
		if p.RestrictedTo != "" {
			limits = append(limits, "only "+p.RestrictedTo)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.ID, p.Title, reference(p.Reference, p.Verify), strings.Join(limits, "; "))
	}
	return tw.Flush()
}

// WriteLegislation writes ls as a table for a terminal.
func WriteLegislation(w io.Writer, ls []Law) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLAW\tREFERENCE")
	for _, l := range ls {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", l.ID, l.Title, reference(l.Reference, l.Verify))
	}
	return tw.Flush()
}

// WriteJSON writes v as indented JSON, the shape the API serves.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func reference(ref string, verify bool) string {
	if verify {
		return ref + " (verify)"
	}
	return ref
}
