package policy

// Files are the three catalogue files as ParseCatalogue reads them: what an
// administrator edits and a catalogue version stores.
type Files struct {
	Purposes    []byte
	Legislation []byte
	Criteria    []byte
}

// Parse parses the files.
func (f Files) Parse() (Catalogue, error) {
	return ParseCatalogue(f.Purposes, f.Legislation, f.Criteria)
}

// DefaultFiles returns the embedded catalogue files, the ones Default
// parses.
func DefaultFiles() Files {
	read := func(name string) []byte {
		b, err := embedded.ReadFile("catalogue/" + name)
		if err != nil {
			panic("policy: reading the embedded " + name + ": " + err.Error())
		}
		return b
	}
	return Files{Purposes: read(purposesFile), Legislation: read(legislationFile), Criteria: read(criteriaFile)}
}
