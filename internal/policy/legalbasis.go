package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Permit is what a legal basis allows that the pack otherwise forbids.
type Permit string

// The permits a legal basis can carry.
const (
	// PermitProhibitedPlace allows a camera in a prohibited place category.
	PermitProhibitedPlace Permit = "prohibited_place"
	// PermitNotNetworked exempts a government-invested camera from being networked.
	PermitNotNetworked Permit = "not_networked"
)

var permits = []Permit{PermitProhibitedPlace, PermitNotNetworked}

// LegalBasis is one law the pack knows that makes an exception to its rules. A camera records
// the id of one of these and a document reference; free text is not a legal basis.
type LegalBasis struct {
	ID      string
	Law     string
	LawZH   string
	Article string
	Permits []Permit
	Text    string // what it allows, in the pack's words
	TextZH  string
}

// Allows reports whether the basis carries the permit.
func (b LegalBasis) Allows(what Permit) bool { return slices.Contains(b.Permits, what) }

// LegalBases lists the legal bases of the pack in file order.
func (p *Pack) LegalBases() []LegalBasis {
	out := make([]LegalBasis, len(p.legalBases))
	for i, b := range p.legalBases {
		b.Permits = slices.Clone(b.Permits)
		out[i] = b
	}
	return out
}

// LegalBasis looks a legal basis up by id.
func (p *Pack) LegalBasis(id string) (LegalBasis, bool) {
	for _, b := range p.legalBases {
		if b.ID == id {
			return b, true
		}
	}
	return LegalBasis{}, false
}

// LegalBasisRule is the rule a refusal about a legal basis names: the pack's rule on prohibited
// places, where the exceptions are, or its placement rule.
func (p *Pack) LegalBasisRule() string {
	if p.prohibitedRule != "" {
		return p.prohibitedRule
	}
	return p.placementRule
}

// Permits reports whether the camera's legal basis is in force (approved) and, as the pack
// states it, allows what.
func (p *Pack) Permits(c CameraFacts, what Permit) bool {
	b, ok := p.LegalBasis(c.LegalBasisID)
	return ok && c.LegalBasisApproved && b.Allows(what)
}

// pendingFor reports whether the camera's legal basis would allow what once approved. A pending
// basis without an id (free text of old) is pending for everything: it awaits its id.
func (p *Pack) pendingFor(c CameraFacts, what Permit) bool {
	if c.LegalBasisApproved {
		return false
	}
	if c.LegalBasisID == "" {
		return c.LegalBasisPending
	}
	b, ok := p.LegalBasis(c.LegalBasisID)
	return ok && b.Allows(what)
}

// basisState says, for a message, why the camera's legal basis does not allow what.
func (p *Pack) basisState(c CameraFacts, what Permit) string {
	switch b, ok := p.LegalBasis(c.LegalBasisID); {
	case c.LegalBasisID == "" && c.LegalBasisPending:
		return "the legal basis recorded as text is pending: it must be proposed again as one of the pack's legal bases and approved"
	case c.LegalBasisID == "":
		return "no legal basis is recorded"
	case !ok:
		return fmt.Sprintf("legal basis %q is not one of policy pack %s", c.LegalBasisID, p.version)
	case !b.Allows(what):
		return fmt.Sprintf("legal basis %q does not permit %s", b.ID, what)
	case !c.LegalBasisApproved:
		return fmt.Sprintf("legal basis %q is pending approval by an admin of another public-security organisation", b.ID)
	}
	return "the legal basis is in force"
}

type rawLegalBasis struct {
	ID      string   `yaml:"id"`
	Law     string   `yaml:"law"`
	LawZH   string   `yaml:"law_zh"`
	Article string   `yaml:"article"`
	Permits []string `yaml:"permits"`
	Text    string   `yaml:"text"`
	TextZH  string   `yaml:"text_zh"`
}

func (v *validator) legalBases(p *Pack, bases []rawLegalBasis) {
	seen := map[string]int{}
	for i, b := range bases {
		if !v.id("legal basis", i, b.ID, seen, "legal_bases") {
			continue
		}
		ctx := fmt.Sprintf("legal basis %q", b.ID)
		v.required(ctx, "law", b.Law, "legal_bases", i, "law")
		v.required(ctx, "article", b.Article, "legal_bases", i, "article")
		v.required(ctx, "text", b.Text, "legal_bases", i, "text")
		if len(b.Permits) == 0 {
			v.addf(v.loc.line("legal_bases", i, "permits"), "%s: permits is required (prohibited_place, not_networked)", ctx)
		}
		var ps []Permit
		for j, s := range b.Permits {
			switch pm := Permit(s); {
			case !slices.Contains(permits, pm):
				v.addf(v.loc.line("legal_bases", i, "permits", j), "%s: unknown permit %q (want prohibited_place or not_networked)", ctx, s)
			case slices.Contains(ps, pm):
				v.addf(v.loc.line("legal_bases", i, "permits", j), "%s: duplicate permit %q", ctx, s)
			default:
				ps = append(ps, pm)
			}
		}
		p.legalBases = append(p.legalBases, LegalBasis{
			ID: b.ID, Law: strings.TrimSpace(b.Law), LawZH: strings.TrimSpace(b.LawZH), Article: strings.TrimSpace(b.Article),
			Permits: ps, Text: strings.TrimSpace(b.Text), TextZH: strings.TrimSpace(b.TextZH),
		})
	}
}
