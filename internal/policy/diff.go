package policy

import "strings"

// A DiffLine is one line of a [Diff]: kept (' '), removed ('-') or added
// ('+'), with its 1-based line numbers in the old and new file (0 where it
// has none).
type DiffLine struct {
	Op       byte
	Old, New int
	Text     string
}

// A Hunk is a run of changed lines with the kept lines around them.
type Hunk []DiffLine

// maxDiffCells bounds the table Diff fills for the lines between the
// common head and tail: 16 MB. Past it the middle is shown as removed,
// then added, which is still a true diff, only not the shortest.
const maxDiffCells = 4 << 20

// Diff compares two versions of a catalogue file line by line, so that the
// administrator asked to approve a change sees exactly what it changes.
// It returns the changed lines in hunks with up to context kept lines
// around each; none when the files are the same.
func Diff(old, new []byte, context int) []Hunk {
	a, b := lines(old), lines(new)
	// The common head and tail cost nothing to match and are most of a
	// typical edit.
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	var all []DiffLine
	for i := range head {
		all = append(all, DiffLine{' ', i + 1, i + 1, a[i]})
	}
	all = append(all, diffMiddle(a[head:len(a)-tail], b[head:len(b)-tail], head)...)
	for i := range tail {
		oi, ni := len(a)-tail+i, len(b)-tail+i
		all = append(all, DiffLine{' ', oi + 1, ni + 1, a[oi]})
	}
	return hunks(all, context)
}

func lines(b []byte) []string {
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// diffMiddle diffs a and b, which start at line offset+1 of both files, by
// the longest common subsequence of their lines.
func diffMiddle(a, b []string, offset int) []DiffLine {
	var out []DiffLine
	if len(a)*len(b) > maxDiffCells {
		for i, l := range a {
			out = append(out, DiffLine{'-', offset + i + 1, 0, l})
		}
		for j, l := range b {
			out = append(out, DiffLine{'+', 0, offset + j + 1, l})
		}
		return out
	}
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:], in one row-major slice.
	w := len(b) + 1
	lcs := make([]int32, (len(a)+1)*w)
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out = append(out, DiffLine{' ', offset + i + 1, offset + j + 1, a[i]})
			i, j = i+1, j+1
		// Removals before additions, as people read a replaced line.
		case i < len(a) && (j == len(b) || lcs[(i+1)*w+j] >= lcs[i*w+j+1]):
			out = append(out, DiffLine{'-', offset + i + 1, 0, a[i]})
			i++
		default:
			out = append(out, DiffLine{'+', 0, offset + j + 1, b[j]})
			j++
		}
	}
	return out
}

// hunks keeps the changed lines and up to context kept lines either side,
// splitting where more than twice context kept lines separate two changes.
func hunks(all []DiffLine, context int) []Hunk {
	var out []Hunk
	keep := make([]bool, len(all))
	for i, l := range all {
		if l.Op == ' ' {
			continue
		}
		for k := max(0, i-context); k <= min(len(all)-1, i+context); k++ {
			keep[k] = true
		}
	}
	var cur Hunk
	for i, l := range all {
		if !keep[i] {
			if cur != nil {
				out, cur = append(out, cur), nil
			}
			continue
		}
		cur = append(cur, l)
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

// apply rebuilds the new file's lines from the old file and a full diff
// (context large enough to keep every line): the property the tests check.
func apply(old []byte, hs []Hunk) []string {
	var out []string
	a := lines(old)
	next := 0 // the next old line not yet copied
	for _, h := range hs {
		for _, l := range h {
			if l.Old > 0 {
				out = append(out, a[next:l.Old-1]...)
				next = l.Old
			}
			if l.Op != '-' {
				out = append(out, l.Text)
			}
		}
	}
	return append(out, a[next:]...)
}
