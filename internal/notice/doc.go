// Package notice holds the monitoring notice as text: the format notices
// are written in, the checks a draft must pass before it is stored, and
// the default notice lbm offers a force to start from. It does no I/O;
// storing versions and acknowledgements is internal/inform's, and showing
// them is internal/web's.
//
// # Why notices matter
//
// A system controller may monitor its own system under SI 2018/356 only
// if it "has made all reasonable efforts to inform every person who may
// use the system" that communications may be intercepted (reg 4(1)(c);
// see the register entry SI_2018_356 in internal/policy). The Bărbulescu
// test asks the same of every request: was the subject told in advance,
// and how? A notice says what is monitored, when, why, under which law,
// who can look and how, how long records are kept, and how to challenge
// it; each person acknowledges the version they read. The product says
// "acknowledge", never "consent": monitoring does not rest on anyone's
// agreement, and saying otherwise would mislead.
//
// # The format
//
// A notice is plain text, never HTML, so that it can be written in a text
// box and rendered safely by html/template, which escapes it:
//
//   - A line starting with "## " is a heading (one level only).
//   - A line starting with "- " is a bullet. Bullets form one list, even
//     with blank lines between them; an indented line right after a
//     bullet continues it.
//   - Blank lines separate paragraphs; other consecutive lines join into
//     one paragraph, with a space between them.
//
// Spaces around a line are ignored, and "\r\n" is a line break. Text is
// valid UTF-8 without control or formatting characters (tabs, lone
// carriage returns, bidi overrides: see internal/safetext), and is bounded
// by [MaxChars], [MaxLines] and [MaxBytes]. [Parse] returns the blocks, or
// a *[FieldError] naming the line at fault; [Format] writes blocks back in
// canonical form. For example,
//
//	## What we monitor
//	We record how our systems
//	are used:
//	- E-mail: who wrote to whom,
//	  and when.
//	- Sign-ins.
//
// parses to
//
//	[]Block{
//		{Kind: Heading, Text: "What we monitor"},
//		{Kind: Paragraph, Text: "We record how our systems are used:"},
//		{Kind: List, Items: []string{"E-mail: who wrote to whom, and when.", "Sign-ins."}},
//	}
//
// and a template renders the blocks with
//
//	{{range .}}{{if eq .Kind "heading"}}<h2>{{.Text}}</h2>
//	{{else if eq .Kind "list"}}<ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul>
//	{{else}}<p>{{.Text}}</p>{{end}}{{end}}
//
// # Drafts
//
// A [Draft] is a notice version as people write it: a title, the staff
// text, a short text for other systems' sign-in screens, the text for
// members of the public whose contact may be recorded, its short form for
// e-mail footers, and the data categories it covers (an acknowledgement
// covers those). [CheckDraft] checks every field and returns a
// [FieldErrors] naming each field at fault, so that a form can show each
// problem beside its field.
//
// [Default] writes the default draft, in plain English, from the
// catalogues of internal/policy: the purposes and the legislation (with
// "(to be verified)" where an entry is not yet checked), the data
// categories and their retention, the lists automatic checks use (naming
// those that hold sensitive data), and the connected sources. It is a
// starting point: the force's legal adviser and Data Protection Officer
// edit it before it is published.
package notice
