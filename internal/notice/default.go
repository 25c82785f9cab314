package notice

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/policy"
)

// Input is what the default notice is written from.
type Input struct {
	// Organisation is the organisation's name as it reads mid-sentence,
	// e.g. "the Metropolitan Police Service"; "" for "the organisation".
	// It is never put at the start of a sentence, so it keeps its case.
	Organisation string
	// Catalogue gives the purposes and the legislation register.
	Catalogue policy.Catalogue
	// Categories are the data categories the notice covers; there must
	// be at least one.
	Categories policy.Categories
	// Detection are the reference lists detection rules may use.
	Detection policy.Detection
	// Sources are the ids of the connected sources, named in the notice
	// in sorted order; none says that systems are added as they are
	// connected.
	Sources []string
	// NoticeURL is where staff can read the full notice, for the short
	// text on sign-in screens; "" to leave the address out.
	NoticeURL string
	// PublicURL is where the public notice is published, for e-mail
	// footers; "" to tell people to ask for it instead.
	PublicURL string
}

// Bounds on Input, in characters: a name and an address are one line.
const (
	maxOrganisation = 200
	maxSource       = 200
	maxURL          = 2000
)

// Default writes the default notice from in, in plain English: the staff
// notice (Text) under one "## " heading for each thing a person must be
// told (what is monitored, when, why, under which law, who can look and
// how, how long records are kept, which lists automatic checks use, and
// the person's rights), its short form for sign-in screens, the notice
// for members of the public and its short form for e-mail footers.
// Categories are the ids of in.Categories.
//
// Every text is built as blocks and written with [Format], and the draft
// passes [CheckDraft] against in.Categories. Default returns a
// *[FieldError] for an organisation name, source id or address that is
// not one line of plain text (Field "organisation", "sources",
// "notice_url" or "public_url"), and the [FieldErrors] of CheckDraft when
// the inputs make a notice that fails it: no categories, or catalogues too
// long for [MaxChars].
func Default(in Input) (Draft, error) {
	org := in.Organisation
	if org == "" {
		org = "the organisation"
	}
	if err := checkLine(org, maxOrganisation); err != nil {
		err.Field = "organisation"
		return Draft{}, err
	}
	for _, u := range []struct{ field, url string }{{"notice_url", in.NoticeURL}, {"public_url", in.PublicURL}} {
		if u.url == "" {
			continue
		}
		err := checkLine(u.url, maxURL)
		if err == nil && strings.ContainsFunc(u.url, unicode.IsSpace) {
			err = &FieldError{Msg: "contains a space"}
		}
		if err != nil {
			err.Field = u.field
			return Draft{}, err
		}
	}
	sources := slices.Clone(in.Sources)
	slices.Sort(sources)
	sources = slices.Compact(sources)
	for _, s := range sources {
		if err := checkLine(s, maxSource); err != nil {
			err.Field = "sources"
			err.Msg = fmt.Sprintf("%q: %s", s, err.Msg)
			return Draft{}, err
		}
	}

	d := Draft{
		Title:       "How we monitor the use of our systems",
		Text:        Format(staffText(in, org, sources)),
		Short:       Format(staffShort(in)),
		PublicText:  Format(publicText(in, org)),
		PublicShort: Format(publicShort(in)),
		Categories:  categoryIDs(in.Categories),
	}
	if err := CheckDraft(d, in.Categories); err != nil {
		return Draft{}, err
	}
	return d, nil
}

// A doc collects blocks. Each method takes sentences and joins them with
// spaces, so that the Go source can keep one sentence to a line.
type doc []Block

func (d *doc) h(text string) { *d = append(*d, Block{Kind: Heading, Text: text}) }

func (d *doc) p(sentences ...string) {
	*d = append(*d, Block{Kind: Paragraph, Text: strings.Join(sentences, " ")})
}

func (d *doc) list(items ...string) {
	if len(items) > 0 {
		*d = append(*d, Block{Kind: List, Items: items})
	}
}

// The headings of the staff notice, one for each thing the law, the ICO's
// guidance and the Bărbulescu test say a person must be told.
const (
	headWhat      = "What we monitor"
	headWhen      = "When we monitor"
	headWhy       = "Why we monitor"
	headLaw       = "The law that allows it"
	headWho       = "Who can look at the records, and how"
	headRetention = "How long we keep records"
	headDetection = "Information used by automatic checks"
	headRights    = "Your rights and how to challenge monitoring"
)

func staffText(in Input, org string, sources []string) []Block {
	var d doc
	d.p(
		"This notice tells you how "+org+` ("we") monitors the use of its computer and phone systems, why we do it, and what your rights are.`,
		"It applies to everyone we give access to our systems, whatever their role.",
	)
	d.p(
		"We ask you to acknowledge this notice, and to acknowledge it again each time it changes.",
		"Acknowledging it confirms that you have been told about the monitoring.",
		"It does not mean that you agree with it, and you do not give up any of your rights.",
	)

	d.h(headWhat)
	d.p(
		"We record how our systems are used.",
		"For each kind of activity below we record details of what happened, such as who did what and when (this is called metadata).",
		"Some activity also has content, such as the words of an e-mail.",
		"We keep content encrypted, and nobody can read it without an authorisation that covers content.",
	)
	var items []string
	for _, c := range in.Categories {
		item := c.Title + ": " + lowerFirst(c.Collected)
		if c.Content != "" {
			item += " Content, kept encrypted: " + lowerFirst(c.Content)
		}
		items = append(items, item)
	}
	d.list(items...)
	if len(sources) == 0 {
		d.p(
			"No systems are connected to monitoring yet.",
			"Systems are added as they are connected, and we will update this notice to name them.",
		)
	} else {
		d.p("We record activity from these systems:")
		d.list(sources...)
		d.p("When we connect another system, we will update this notice to name it.")
	}
	d.p(
		"We record only the use of systems we provide for work.",
		"If you use them for personal matters, such as personal e-mail or web browsing, that use is recorded too.",
	)

	d.h(headWhen)
	d.p(
		"All the time: 24 hours a day, 7 days a week, whether you are at work, off duty or working away from the office.",
		"Routine recording is automatic, and it is the same for everyone who uses our systems.",
	)
	d.p(
		"Under an authorisation (see below), our anti-corruption unit may also watch a named person's activity as it happens, or keep more about them than usual, for a limited time.",
		"The law counts this as interception of communications, and allows it only for the purposes below or under a warrant.",
	)

	d.h(headWhy)
	d.p(
		"We monitor to protect the public and to keep their trust in "+org+".",
		"People trust us with information about them.",
		"Monitoring helps us find and stop misuse of our systems, such as looking at records without a work reason or passing information on to others.",
		"It can also show that you used a system properly.",
	)
	d.p("The law allows monitoring only for certain purposes. These are the purposes we may rely on:")
	verify := false
	items = nil
	for _, p := range in.Catalogue.Purposes {
		item := p.Title + ": " + p.Reference
		if p.Verify {
			item += " (to be verified)"
			verify = true
		}
		item += "."
		if p.MonitorOnly {
			item += " Monitoring only: nothing may be recorded for this purpose."
		}
		if p.RestrictedTo != "" {
			item += " Only " + p.RestrictedTo + " may rely on it."
		}
		items = append(items, item)
	}
	d.list(items...)

	d.h(headLaw)
	d.p(
		"The Investigatory Powers Act 2016, and the regulations made under it, allow us to monitor our own systems.",
		"They require us first to make all reasonable efforts to tell everyone who uses our systems that their communications may be intercepted, that is, recorded or watched as they happen.",
		"This notice, and your acknowledgement of it, is how we do that.",
	)
	d.p("Monitoring must also respect your right to privacy and data protection law. These are the laws that apply:")
	items = nil
	for _, l := range in.Catalogue.Legislation {
		// A reference that starts with the title ("Investigatory Powers
		// Act 2016, s.46") says it all.
		item := l.Reference
		if !strings.HasPrefix(l.Reference, l.Title) {
			item = l.Title + ": " + l.Reference
		}
		if l.Verify {
			item += " (to be verified)"
			verify = true
		}
		items = append(items, item)
	}
	d.list(items...)
	if verify {
		d.p(`An entry marked "to be verified" has a legal reference that our legal adviser has still to check.`)
	}

	d.h(headWho)
	d.p(
		"Recording is automatic; looking at the records is not.",
		"Only our anti-corruption unit can look at them, and only under an authorisation:",
	)
	d.list(
		"An authoriser of the right rank must approve it in writing, with reasons, before anyone looks. The more intrusive the look, the more senior the authoriser. Nobody may approve their own request.",
		"It names the people, the kinds of activity, the systems and the period it covers, and nothing outside that can be seen.",
		"It lasts for a set time. It is reviewed, it must be renewed to go on, and it is cancelled as soon as it is no longer needed.",
		"Every look at the records is itself recorded: who looked, under which authorisation, why, and what they saw. That record is kept in a tamper-evident log, so any change to it would show.",
		"Independent oversight checks every authorisation and every look.",
	)
	d.p(
		"Nobody can read the content of your messages or documents without an authorisation that covers content.",
		"Managers outside the anti-corruption unit cannot look at the records.",
		`The Data Protection Officer can look at your own records when you ask for them (see "`+headRights+`").`,
	)
	d.p(
		"Material that looks confidential, such as legal advice, health matters, trade union business or whistleblowing, is held back until a legal adviser has looked at it.",
		"We never use monitoring to identify or act against someone who reports wrongdoing in confidence.",
	)

	d.h(headRetention)
	d.p(
		"We keep records only as long as we need them.",
		"After the periods below they are deleted, unless an investigation or legal case still needs them, in which case they are kept until it ends.",
	)
	items = nil
	for _, c := range in.Categories {
		item := c.Title + ": details for " + months(c.RetentionMonths)
		if c.Content != "" {
			item += ", content for " + months(c.ContentRetentionMonths) + "."
		} else {
			item += " (no content is kept)."
		}
		items = append(items, item)
	}
	d.list(items...)
	d.p("Records of authorisations are kept for at least 5 years after each one ends, so that oversight can check them.")

	d.h(headDetection)
	d.p(
		"Automatic checks look for signs of misuse, such as searches for records about yourself, your family or your neighbours.",
		"An alert from a check does not name anyone, and it does not mean that anyone has done something wrong: finding out who an alert is about needs an authorisation.",
	)
	if len(in.Detection) == 0 {
		d.p("The checks use only the records of activity described above.")
	} else {
		d.p("As well as the records of activity, the checks use these lists:")
		var special []string
		items = nil
		for _, x := range in.Detection {
			item := x.Title + ": " + lowerFirst(x.Explanation) + " It comes from " + x.Source + "."
			if x.SpecialCategory {
				item += " This is sensitive personal data."
				special = append(special, `"`+x.Title+`"`)
			}
			items = append(items, item)
		}
		d.list(items...)
		if len(special) > 0 {
			d.p(
				"Some of these lists hold sensitive personal data, which data protection law calls special category data: "+joinAnd(special)+".",
				"We use them only for these checks, and a data protection impact assessment (DPIA) covers that use.",
				"A DPIA is a written assessment of the risks to your privacy and of how we reduce them.",
			)
		}
	}

	d.h(headRights)
	d.p(
		"You have the right to see the information we hold about you.",
		"Use the self-service page (/me) to ask for a copy; the Data Protection Officer handles each request.",
		"We may hold some information back while showing it to you would harm an investigation, as the law allows.",
	)
	d.p(
		"If you think we have monitored you wrongly, or not as this notice says, you can complain to the Data Protection Officer.",
		"You can also complain to the Information Commissioner's Office (ICO), the independent regulator for data protection, at ico.org.uk.",
	)
	d.p("If you have questions about this notice, ask the Data Protection Officer.")
	return d
}

func staffShort(in Input) []Block {
	var d doc
	read := "Read the full monitoring notice"
	if in.NoticeURL != "" {
		read += " at " + in.NoticeURL
	}
	d.p(
		"Use of this system is monitored and recorded, 24 hours a day, 7 days a week, as the law allows.",
		"Only authorised people can look at the records, and every look is itself recorded.",
		read+" to see what is recorded, why, and your rights.",
	)
	return d
}

// The channels by which the public contacts the organisation, and the
// categories that record them.
var publicChannels = []struct{ category, heading, details string }{
	{"email", "E-mails", "who sent each message, to whom and when."},
	{"telephony", "Phone calls and text messages", "the phone numbers, and when each call started and ended."},
}

func publicText(in Input, org string) []Block {
	var d doc
	d.p(
		"This notice is for members of the public who contact "+org+" by e-mail, through our website or by phone.",
		"It explains how a record of that contact may be kept, and why.",
	)

	d.h("What we record")
	d.p(
		"To protect the information we hold, we record how our staff use our computer and phone systems.",
		"When you contact us, that record may include your contact:",
	)
	var items, kept []string
	longest := 0
	for _, c := range in.Categories {
		longest = max(longest, c.RetentionMonths, c.ContentRetentionMonths)
	}
	for _, ch := range publicChannels {
		c, ok := in.Categories.Category(ch.category)
		if !ok {
			continue
		}
		item := ch.heading + ": " + ch.details
		keep := ch.heading + ": the details for " + months(c.RetentionMonths)
		if c.Content != "" {
			item += " The content may also be kept, encrypted: " + lowerFirst(c.Content)
			keep += ", the content for " + months(c.ContentRetentionMonths)
		}
		items = append(items, item)
		kept = append(kept, keep+".")
	}
	items = append(items, "Forms on our website: what you send may be recorded when it reaches our staff's systems.")
	kept = append(kept, "Anything else: at most "+months(longest)+".")
	d.list(items...)

	d.h("Why we record it")
	d.p(
		"We do this to protect the public and to keep your trust.",
		"It lets us find and stop misuse of our systems, such as staff looking at or passing on information about people without a good reason.",
		"The Investigatory Powers Act 2016, and the regulations made under it, allow this monitoring.",
		"We do not use these records to deal with what you contacted us about.",
	)

	d.h("How long we keep it")
	d.p("After these periods the records are deleted, unless an investigation or legal case still needs them:")
	d.list(kept...)

	d.h("Who can see it")
	d.p(
		"Only our anti-corruption unit can look at these records, and only when a senior person has authorised it, for a limited time and purpose.",
		"Every look is recorded and checked by independent oversight.",
	)

	d.h("Your rights")
	d.p(
		"You have the right to ask for a copy of the personal data we hold about you, and to ask us to correct it if it is wrong.",
		"Contact our Data Protection Officer.",
		"We may hold some information back where the law allows, for example while showing it would harm an investigation.",
	)
	d.p("If you are unhappy with how we have handled your data, you can complain to our Data Protection Officer, or to the Information Commissioner's Office (ICO), the independent regulator for data protection, at ico.org.uk.")
	return d
}

func publicShort(in Input) []Block {
	var d doc
	more := "Ask us for our monitoring notice for the public, which explains why, for how long, and your rights."
	if in.PublicURL != "" {
		more = "Our monitoring notice for the public, at " + in.PublicURL + ", explains why, for how long, and your rights."
	}
	d.p(
		"We may keep a record of your message or call as part of checking how our staff use our systems, to protect the public.",
		more,
	)
	return d
}

// lowerFirst lower-cases the first letter of a sentence so that it can
// follow a colon, unless the first word is an abbreviation ("USB", "PNC").
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	next, _ := utf8.DecodeRuneInString(s[n:])
	if !unicode.IsUpper(r) || !unicode.IsLower(next) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

func months(n int) string {
	if n == 1 {
		return "1 month"
	}
	return fmt.Sprintf("%d months", n)
}

// joinAnd joins items as a list in a sentence: "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
