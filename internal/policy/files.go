package policy

import "slices"

// Files are the four catalogue files as [Files.Parse] reads them: what an
// administrator edits and a catalogue version stores. Categories is
// categories.yaml, the data categories with their retention schedule.
type Files struct {
	Purposes    []byte
	Legislation []byte
	Criteria    []byte
	Categories  []byte
}

// Parse parses the four files: the first three as [ParseCatalogue] does,
// and Categories as [ParseCategories] does. Every file is required; an
// empty Categories is a *[ParseError] like any other empty file. (A
// catalogue version stored before the catalogue carried categories has
// none; whoever reads it from the store supplies the embedded file,
// DefaultFiles().Categories, before parsing.)
func (f Files) Parse() (Catalogue, error) {
	c, err := ParseCatalogue(f.Purposes, f.Legislation, f.Criteria)
	if err != nil {
		return Catalogue{}, err
	}
	if c.Categories, err = ParseCategories(f.Categories); err != nil {
		return Catalogue{}, err
	}
	return c, nil
}

// DefaultFiles returns the embedded catalogue files, the ones Default
// parses. Each call returns fresh slices.
func DefaultFiles() Files {
	return Files{
		Purposes:    readEmbedded(purposesFile),
		Legislation: readEmbedded(legislationFile),
		Criteria:    readEmbedded(criteriaFile),
		Categories:  readEmbedded(categoriesFile),
	}
}

// Dropped returns the ids of the categories in cs that next lacks, in the
// order of cs; none when next keeps every one. A catalogue change must not
// drop a category: the events already recorded under it would be left
// with no retention period, and a notice that named it would name
// something the schedule no longer covers.
func (cs Categories) Dropped(next Categories) []string {
	var out []string
	for _, c := range cs {
		if !slices.ContainsFunc(next, func(n DataCategory) bool { return n.ID == c.ID }) {
			out = append(out, c.ID)
		}
	}
	return out
}
