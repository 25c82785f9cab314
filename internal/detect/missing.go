package detect

import "maps"

// WithEmpty returns lists with an empty list added for every list rules
// read that lists lacks, plain or keyed as the rules call it: a server
// whose organisation has not supplied a list yet still runs every rule,
// and a rule that needs the list simply finds nothing in it. lists is
// not changed.
func WithEmpty(rules []*Rule, lists Lists) Lists {
	out := maps.Clone(lists)
	if out == nil {
		out = Lists{}
	}
	for _, r := range rules {
		for _, x := range r.exprs() {
			for _, u := range x.uses {
				if out[u.list] != nil {
					continue
				}
				if u.keyed {
					out[u.list] = NewKeyedList(nil)
				} else {
					out[u.list] = NewList()
				}
			}
		}
	}
	return out
}
