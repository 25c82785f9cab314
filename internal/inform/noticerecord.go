package inform

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/lbm-project/lbm/internal/store"
)

// NoticeRecord writes the NOTICE criterion's record for a request about
// subjects that asks for categories: for each subject and category, the
// latest acknowledgement of a published notice covering it, or that there
// is none. The request workflow puts it in the request's notice_record,
// which the requester may add to but not change (LEGAL.md §3: "was the
// subject told in advance that monitoring was possible, and how?").
func NoticeRecord(ctx context.Context, st store.Notices, subjects, categories []string) (string, error) {
	cats := slices.Clone(categories)
	slices.Sort(cats)
	cats = slices.Compact(cats)
	var lines []string
	for _, person := range subjects {
		// Categories covered by the same acknowledgement share a line.
		byVersion := map[int64][]string{}
		var versions []int64
		var acks = map[int64]store.Acknowledgement{}
		var none []string
		for _, c := range cats {
			a, _, ok, err := Acknowledged(ctx, st, person, c)
			if err != nil {
				return "", err
			}
			if !ok {
				none = append(none, c)
				continue
			}
			if _, seen := byVersion[a.Version]; !seen {
				versions = append(versions, a.Version)
				acks[a.Version] = a
			}
			byVersion[a.Version] = append(byVersion[a.Version], c)
		}
		slices.Sort(versions)
		slices.Reverse(versions)
		for _, v := range versions {
			a := acks[v]
			lines = append(lines, fmt.Sprintf("%s acknowledged monitoring notice version %d, which covers %s, on %s (%s; oversight log entry %d).",
				person, v, strings.Join(byVersion[v], ", "), a.Time.UTC().Format("2 January 2006 15:04 UTC"), viaText(a.Via), a.Entry))
		}
		if len(none) > 0 {
			lines = append(lines, fmt.Sprintf("%s has acknowledged no monitoring notice covering %s.", person, strings.Join(none, ", ")))
		}
	}
	return strings.Join(lines, "\n"), nil
}

func viaText(via string) string {
	switch via {
	case ViaWeb:
		return "on lbm's website"
	case ViaAPI:
		return "through another system"
	}
	return "via " + via
}
